"""The fake Supabase Realtime, checked by supabase-py's official realtime client (Phoenix vsn 1.0.0): a REST
broadcast reaches `channel('demo-x').on_broadcast(...)`, public and private channels stay apart, private
joins need an authorized JWT, heartbeats are answered and an idle socket is dropped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest
import websockets
from realtime import RealtimeSubscribeStates
from supabase import AsyncClient, acreate_client

from tests.support.supabase import RunningFakeSupabase, running_fake_supabase

PAYLOAD = {"video_id": "v-1", "title": "Intro", "url": "https://cdn.example/intro.mp4"}


def only_demo_x(topic: str, claims: Mapping[str, Any]) -> bool:
    return claims.get("role") == "authenticated" and topic == "demo-x"


@pytest.fixture
async def supabase_fake() -> AsyncIterator[RunningFakeSupabase]:
    async with running_fake_supabase(authorize=only_demo_x) as running:
        yield running


@pytest.fixture
async def client(supabase_fake: RunningFakeSupabase) -> AsyncIterator[AsyncClient]:
    client = await acreate_client(supabase_fake.url, supabase_fake.anon_key)
    try:
        yield client
    finally:
        await client.realtime.close()


async def rest_broadcast(
    running: RunningFakeSupabase, *, private: bool, topic: str = "demo-x"
) -> httpx.Response:
    message = {"topic": topic, "event": "play_video", "payload": PAYLOAD, "private": private}
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{running.url}/realtime/v1/api/broadcast",
            headers=running.service_headers,
            json={"messages": [message]},
        )


class Inbox:
    def __init__(self) -> None:
        self.messages: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        self.states: list[RealtimeSubscribeStates] = []

    def on_message(self, message: Mapping[str, Any]) -> None:
        self.messages.put_nowait(message)

    def on_state(self, state: RealtimeSubscribeStates, error: Exception | None) -> None:
        self.states.append(state)

    async def next(self, timeout: float = 5.0) -> Mapping[str, Any]:
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def nothing_within(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        assert self.messages.empty(), self.messages.get_nowait()


async def subscribe(client: AsyncClient, *, private: bool = False) -> Inbox:
    inbox = Inbox()
    params: Any = {
        "config": {"broadcast": {"ack": False, "self": False}, "presence": None, "private": private}
    }
    channel = client.channel("demo-x", params)
    await channel.on_broadcast("play_video", inbox.on_message).subscribe(inbox.on_state)
    return inbox


async def test_rest_broadcast_reaches_a_public_subscriber(
    client: AsyncClient, supabase_fake: RunningFakeSupabase
) -> None:
    inbox = await subscribe(client)
    assert inbox.states == [RealtimeSubscribeStates.SUBSCRIBED]
    response = await rest_broadcast(supabase_fake, private=False)
    assert (response.status_code, response.content) == (202, b"")
    assert await inbox.next() == {"event": "play_video", "payload": PAYLOAD}  # realtime-py drops "type"
    assert supabase_fake.fake.stats.broadcasts[0]["delivered"] == 1


async def test_public_and_private_channels_do_not_mix(supabase_fake: RunningFakeSupabase) -> None:
    public_client = await acreate_client(supabase_fake.url, supabase_fake.anon_key)
    private_client = await acreate_client(supabase_fake.url, supabase_fake.anon_key)
    try:
        await private_client.realtime.set_auth(supabase_fake.fake.access_token(role="authenticated"))
        public_inbox = await subscribe(public_client, private=False)
        private_inbox = await subscribe(private_client, private=True)
        assert private_inbox.states == [RealtimeSubscribeStates.SUBSCRIBED]

        await rest_broadcast(supabase_fake, private=True)
        assert (await private_inbox.next())["payload"] == PAYLOAD
        await public_inbox.nothing_within(0.3)

        await rest_broadcast(supabase_fake, private=False)
        assert (await public_inbox.next())["payload"] == PAYLOAD
        await private_inbox.nothing_within(0.3)
    finally:
        await public_client.realtime.close()
        await private_client.realtime.close()


async def test_private_join_needs_an_authorized_token(
    client: AsyncClient, supabase_fake: RunningFakeSupabase
) -> None:
    refused = await subscribe(client, private=True)  # the anon key is not an authenticated user
    assert refused.states == [RealtimeSubscribeStates.CHANNEL_ERROR]
    join = supabase_fake.fake.stats.joins[-1]
    assert (
        join["reason"] == "Unauthorized: You do not have permissions to read from this Channel topic: demo-x"
    )


async def test_heartbeat_is_answered_and_keeps_the_socket(supabase_fake: RunningFakeSupabase) -> None:
    url = supabase_fake.websocket_url("1.0.0")
    async with websockets.connect(url) as socket:
        for ref in ("1", "2"):
            await socket.send(
                json.dumps({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": ref})
            )
            reply = json.loads(await socket.recv())
            assert reply == {
                "topic": "phoenix",
                "event": "phx_reply",
                "payload": {"status": "ok", "response": {}},
                "ref": ref,
            }
    assert supabase_fake.fake.stats.heartbeats == 2


async def test_a_silent_socket_is_closed_after_the_idle_timeout() -> None:
    async with running_fake_supabase(idle_timeout_s=0.5) as running:
        url = running.websocket_url("1.0.0")
        async with websockets.connect(url) as socket:
            for _ in range(3):  # heart-beating every 0.2 s keeps it open past the timeout
                await asyncio.sleep(0.2)
                await socket.send(
                    json.dumps({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "1"})
                )
                await socket.recv()
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 2)


async def test_handshake_refuses_a_bad_apikey(supabase_fake: RunningFakeSupabase) -> None:
    url = supabase_fake.websocket_url("1.0.0", apikey="not-a-jwt")
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url)
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body) == {"error": "The token provided is not a valid JWT"}


async def test_leave_replies_ok_then_closes(client: AsyncClient, supabase_fake: RunningFakeSupabase) -> None:
    url = supabase_fake.websocket_url("2.0.0")
    async with websockets.connect(url) as socket:
        join = [
            "1",
            "1",
            "realtime:demo-x",
            "phx_join",
            {"config": {"broadcast": {"self": True}, "private": False}},
        ]
        await socket.send(json.dumps(join))
        assert json.loads(await socket.recv()) == [
            "1",
            "1",
            "realtime:demo-x",
            "phx_reply",
            {"status": "ok", "response": {"postgres_changes": []}},
        ]
        await socket.send(
            json.dumps(
                [
                    "1",
                    "2",
                    "realtime:demo-x",
                    "broadcast",
                    {"type": "broadcast", "event": "e", "payload": {"n": 1}},
                ]
            )
        )
        assert json.loads(await socket.recv()) == [
            None,
            None,
            "realtime:demo-x",
            "broadcast",
            {"type": "broadcast", "event": "e", "payload": {"n": 1}},
        ]
        await socket.send(json.dumps(["1", "3", "realtime:demo-x", "phx_leave", {}]))
        assert json.loads(await socket.recv()) == [
            "1",
            "3",
            "realtime:demo-x",
            "phx_reply",
            {"status": "ok", "response": {}},
        ]
        assert json.loads(await socket.recv()) == ["1", "1", "realtime:demo-x", "phx_close", {}]


async def test_rest_broadcast_validation_and_auth(supabase_fake: RunningFakeSupabase) -> None:
    endpoint = f"{supabase_fake.url}/realtime/v1/api/broadcast"
    async with httpx.AsyncClient() as http:
        no_key = await http.post(endpoint, json={"messages": []})
        assert no_key.status_code == 401
        forged = await http.post(
            endpoint,
            json={"messages": []},
            headers={"apikey": supabase_fake.anon_key, "Authorization": "Bearer nope"},
        )
        assert (forged.status_code, forged.json()) == (401, {"message": "Unauthorized"})
        invalid = await http.post(
            endpoint, headers=supabase_fake.service_headers, json={"messages": [{"topic": "demo-x"}]}
        )
        assert invalid.status_code == 422
        assert invalid.json() == {
            "errors": {"messages": [{"event": ["can't be blank"], "payload": ["can't be blank"]}]}
        }
        not_json = await http.post(endpoint, headers=supabase_fake.service_headers, content=b"{")
        assert not_json.status_code == 400
