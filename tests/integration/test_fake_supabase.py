"""The fake Supabase's own controls: faults (status, delay, down; cleared after `times`), counters, the
/__fake/ HTTP endpoints Node and browser tests use, the `python -m fake_supabase` entry,
and `demo-relay fake-supabase --private-policy claim:demo_relay_topic` (this project's RLS policy on
private channels). The protocol itself is proven against the official clients in the other
test_fake_supabase_*.py."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from click.testing import CliRunner
from storage3.exceptions import StorageApiError
from supabase import acreate_client

from demo_relay.adapters.clock import SystemClock
from demo_relay.adapters.tokens.realtime_tokens import SupabaseRealtimeTokens
from demo_relay.entrypoints.cli import main as demo_relay_cli
from fake_supabase import PrivatePolicy
from tests.support.server import free_port
from tests.support.supabase import RunningFakeSupabase, running_fake_supabase


@pytest.fixture
async def supabase_fake() -> AsyncIterator[RunningFakeSupabase]:
    async with running_fake_supabase(buckets=("videos",)) as running:
        running.fake.put_object("videos", "demo-1/a.mp4", b"mp4", "video/mp4")
        yield running


async def test_a_500_fault_answers_500_then_clears(supabase_fake: RunningFakeSupabase) -> None:
    fake = supabase_fake.fake
    fake.inject("storage", status=500, times=1, match="/object/sign/")
    bucket = (await acreate_client(supabase_fake.url, supabase_fake.service_key)).storage.from_("videos")
    with pytest.raises(StorageApiError) as raised:
        await bucket.create_signed_url("demo-1/a.mp4", 60)
    assert (raised.value.status, raised.value.message) == ("500", "Injected fault")
    signed = await bucket.create_signed_url("demo-1/a.mp4", 60)  # the retry after recovery
    assert "token=" in signed["signedURL"]
    assert fake.sign_count("videos", "demo-1/a.mp4") == 1  # the faulted call never reached Storage
    assert fake.stats.faults_triggered["storage"] == 1
    assert fake.stats.requests["storage"] == 2
    assert fake.faults.active() == []


async def test_down_drops_the_connection_and_delay_answers_late(supabase_fake: RunningFakeSupabase) -> None:
    fake = supabase_fake.fake
    fake.inject("realtime_rest", down=True, times=2)
    message = {"messages": [{"topic": "demo-x", "event": "play_video", "payload": {}, "private": False}]}
    endpoint = f"{supabase_fake.url}/realtime/v1/api/broadcast"
    async with httpx.AsyncClient() as http:
        for _ in range(2):
            with pytest.raises(httpx.TransportError):
                await http.post(endpoint, json=message, headers=supabase_fake.service_headers)
        assert (
            await http.post(endpoint, json=message, headers=supabase_fake.service_headers)
        ).status_code == 202

        fake.inject("realtime_rest", delay_s=0.4)
        started = time.monotonic()
        response = await http.post(endpoint, json=message, headers=supabase_fake.service_headers)
        assert response.status_code == 202
        assert time.monotonic() - started >= 0.4
    assert len(fake.stats.broadcasts) == 2


async def test_websocket_handshake_faults(supabase_fake: RunningFakeSupabase) -> None:
    supabase_fake.fake.inject("realtime_ws", status=503, times=1)
    url = supabase_fake.websocket_url("1.0.0")
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url)
    assert refused.value.response.status_code == 503
    async with websockets.connect(url):
        pass
    stats = supabase_fake.fake.stats
    assert (stats.ws_rejected, stats.ws_connections) == (1, 1)


async def test_control_endpoints(supabase_fake: RunningFakeSupabase) -> None:
    async with httpx.AsyncClient(base_url=supabase_fake.url) as http:
        created = await http.post(
            "/__fake/faults", json={"service": "realtime_rest", "status": 503, "times": 2}
        )
        assert created.status_code == 201
        assert created.json()["remaining"] == 2
        assert (await http.post("/__fake/faults", json={"service": "nope", "status": 500})).status_code == 400

        message = {"messages": [{"topic": "demo-x", "event": "play_video", "payload": {"n": 1}}]}
        statuses = [
            (
                await http.post(
                    "/realtime/v1/api/broadcast", json=message, headers=supabase_fake.service_headers
                )
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [503, 503, 202]

        stats = (await http.get("/__fake/stats")).json()
        assert stats["faults_triggered"] == {"realtime_rest": 2}
        assert stats["broadcasts"] == [
            {
                "topic": "demo-x",
                "event": "play_video",
                "payload": {"n": 1},
                "private": False,
                "delivered": 0,
                "authorized": True,
            }
        ]
        token = (await http.post("/__fake/token", json={"role": "authenticated"})).json()["access_token"]
        assert token.count(".") == 2
        assert (await http.get("/__fake/keys")).json()["anon_key"] == supabase_fake.anon_key

        assert (await http.post("/__fake/reset")).status_code == 204
        assert (await http.get("/__fake/stats")).json()["broadcasts"] == []
        assert supabase_fake.fake.get_object("videos", "demo-1/a.mp4") is not None  # data kept
        await http.post("/__fake/reset", json={"data": True})
        assert supabase_fake.fake.get_object("videos", "demo-1/a.mp4") is None


async def _keys_once_up(http: httpx.AsyncClient, attempts: int = 100) -> dict[str, Any]:
    """GET /__fake/keys from a fake process that is still starting; fails clearly if it never answers."""
    for _ in range(attempts):
        try:
            keys: dict[str, Any] = (await http.get("/__fake/keys")).json()
            return keys
        except httpx.ConnectError:
            await asyncio.sleep(0.1)
    raise AssertionError("the fake Supabase did not answer /__fake/keys")


async def test_python_m_entry_prints_url_and_keys_and_serves() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fake_supabase",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--bucket",
        "videos:public",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode() for _ in range(5)]
        assert f"http://127.0.0.1:{port}" in banner[0]
        anon_key = next(line.split()[-1] for line in banner if "anon key" in line)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            keys = await _keys_once_up(http)
            assert keys["anon_key"] == anon_key
            public = await http.get("/storage/v1/object/public/videos/missing.mp4")
            assert json.loads(public.content)["error"] == "not_found"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


# ---------- --private-policy: the project's RLS policy on private channels ----------

DEMO_RELAY = Path(sys.executable).parent / "demo-relay"


async def _join(socket: Any, ref: str, topic: str, token: str) -> dict[str, Any]:
    """A private phx_join of `realtime:<topic>` with `token` (vsn 1.0.0); the fake's reply payload."""
    join = {
        "topic": f"realtime:{topic}",
        "event": "phx_join",
        "payload": {"config": {"broadcast": {"self": False}, "private": True}, "access_token": token},
        "ref": ref,
        "join_ref": ref,
    }
    await socket.send(json.dumps(join))
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if frame["event"] == "phx_reply" and frame["ref"] == ref:
            payload: dict[str, Any] = frame["payload"]
            return payload


def test_private_policy_parses_the_cli_syntax() -> None:
    assert PrivatePolicy.parse("authenticated") == PrivatePolicy()
    policy = PrivatePolicy.parse("claim:demo_relay_topic")
    assert str(policy) == "claim:demo_relay_topic"
    assert policy("demo-a", {"role": "authenticated", "demo_relay_topic": "demo-a"})
    assert not policy("demo-b", {"role": "authenticated", "demo_relay_topic": "demo-a"})
    assert not policy("demo-a", {"role": "anon", "demo_relay_topic": "demo-a"})  # `to authenticated`
    assert not policy("demo-a", {"role": "authenticated"})
    for bad in ("claim:", "claim", "everyone", "authenticated:x"):
        with pytest.raises(ValueError, match="expected 'authenticated' or 'claim:NAME'"):
            PrivatePolicy.parse(bad)
    refused = CliRunner().invoke(demo_relay_cli, ["fake-supabase", "--private-policy", "anyone"])
    assert refused.exit_code == 2
    assert "--private-policy" in refused.output


async def test_claim_policy_refuses_a_token_for_another_channel() -> None:
    """The CLI option end to end: the token serve would hand the page of demo-a (SupabaseRealtimeTokens with
    the project's JWT secret) joins private demo-a and is refused on demo-b, as the migration's RLS does."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(DEMO_RELAY),
        "fake-supabase",
        "--port",
        str(port),
        "--private-policy",
        "claim:demo_relay_topic",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode() for _ in range(8)]
        assert any("private channels: claim:demo_relay_topic" in line for line in banner), banner
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            keys = await _keys_once_up(http)
            tokens = SupabaseRealtimeTokens(keys["jwt_secret"], 300, SystemClock())
            token_a, _ = tokens.issue("demo-a", "conversation-a")
            unscoped = (await http.post("/__fake/token", json={"role": "authenticated"})).json()
            ws_url = f"ws://127.0.0.1:{port}/realtime/v1/websocket?apikey={keys['anon_key']}&vsn=1.0.0"
            async with websockets.connect(ws_url) as socket:
                assert await _join(socket, "1", "demo-a", token_a) == {
                    "status": "ok",
                    "response": {"postgres_changes": []},
                }
                denied = "Unauthorized: You do not have permissions to read from this Channel topic: demo-b"
                assert await _join(socket, "2", "demo-b", token_a) == {
                    "status": "error",
                    "response": {"reason": denied},
                }
                # Writes follow the same policy: the viewer's token may not broadcast to demo-b; the
                # service_role key (what serve broadcasts with) bypasses it, as it bypasses RLS.
                message = {"topic": "demo-b", "event": "play_video", "payload": {"n": 1}, "private": True}
                viewer = {"apikey": keys["anon_key"], "Authorization": f"Bearer {token_a}"}
                service = {"apikey": keys["service_key"], "Authorization": f"Bearer {keys['service_key']}"}
                endpoint = "/realtime/v1/api/broadcast"
                assert (
                    await http.post(endpoint, json={"messages": [message]}, headers=viewer)
                ).status_code == 202
                to_a = {**message, "topic": "demo-a"}
                assert (
                    await http.post(endpoint, json={"messages": [to_a]}, headers=service)
                ).status_code == 202
                pushed = json.loads(await asyncio.wait_for(socket.recv(), 10))
                assert (pushed["topic"], pushed["payload"]["payload"]) == ("realtime:demo-a", {"n": 1})

                # Last: a join of demo-a again replaces the channel above (Realtime closes it first).
                no_claim = await _join(socket, "3", "demo-a", unscoped["access_token"])
                assert no_claim["status"] == "error"  # role authenticated alone is not enough here

            stats = (await http.get("/__fake/stats")).json()
        assert [(j["topic"], j["private"], j["status"]) for j in stats["joins"]] == [
            ("realtime:demo-a", True, "ok"),
            ("realtime:demo-b", True, "error"),
            ("realtime:demo-a", True, "error"),
        ]
        assert [(b["topic"], b["authorized"], b["delivered"]) for b in stats["broadcasts"]] == [
            ("demo-b", False, 0),
            ("demo-a", True, 1),
        ]
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
