"""The fake Supabase's own controls: faults (status, delay, down; cleared after `times`), counters, the
/__fake/ HTTP endpoints Node and browser tests use, and the `python -m demo_relay.testing.fake_supabase`
entry. The protocol itself is proven against the official clients in the other test_fake_supabase_*.py."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from storage3.exceptions import StorageApiError
from supabase import acreate_client

from tests.fakes.supabase import RunningFakeSupabase, running_fake_supabase
from tests.support.server import free_port


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


async def test_python_m_entry_prints_url_and_keys_and_serves() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "demo_relay.testing.fake_supabase",
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
            for _ in range(100):
                try:
                    keys = (await http.get("/__fake/keys")).json()
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            assert keys["anon_key"] == anon_key
            public = await http.get("/storage/v1/object/public/videos/missing.mp4")
            assert json.loads(public.content)["error"] == "not_found"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
