"""Many instances (HUB_BACKEND=postgres, and the same contract with HUB_BACKEND=redis): two instances of the
real app, each on its own uvicorn socket, on one Postgres (and one Redis).

- a webhook posted to A reaches the subscribers on A and on B, once each;
- 1,000 webhooks spread over both reach every subscriber exactly once, in the order Postgres committed them
  per channel; the same delivery posted to A and B at once plays once;
- B's listening connection killed (`pg_terminate_backend`; Redis: `CLIENT KILL`): B reconnects, and what was
  sent in the gap reaches B's subscribers;
- a page that reconnects with `?since=<frame id>` gets exactly what it missed, from either instance; a late
  joiner on B gets the video played through A; a viewer still sees only its own conversation;
- N instances starting on an empty database seed one demo."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect

from demo_relay.bootstrap import build_container, running
from demo_relay.domain.models import ChannelEvent, EventName
from tests.support.app import SeededApp, make_settings, owner_headers, tavus_headers
from tests.support.redis import redis_server
from tests.support.server import free_port
from tests.support.server import running as serving

QUIET_S = 0.5
TITLES = ["Product Overview", "Pricing Walkthrough", "Integrations tour"]


@dataclass
class Instance:
    name: str
    seeded: SeededApp
    http: httpx.AsyncClient

    @property
    def relay(self) -> Any:
        return self.seeded.container.hub_relay()


@dataclass
class Pair:
    a: Instance
    b: Instance
    demo_id: str
    pool: asyncpg.Pool
    backend: str
    redis_url: str | None = None

    @property
    def channel(self) -> str:
        return f"demo-{self.demo_id}"

    async def committed(self) -> list[str]:
        """The channel's event ids in the order the backend stored (committed) them."""
        if self.backend == "postgres":
            rows = await self.pool.fetch(
                "select event_id from channel_events where channel = $1 order by seq", self.channel
            )
            return [row["event_id"] for row in rows]
        client = aioredis.from_url(self.redis_url or "")
        try:
            entries = await client.xrange(f"demo-relay:log:{self.channel}", "-", "+")
        finally:
            await client.aclose()
        return [fields[b"i"].decode() for _, fields in entries]

    async def kill_listener(self, instance: Instance) -> None:
        """Ends the instance's listening connection from the server's side."""
        if self.backend == "postgres":
            killed = await self.pool.fetchval(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where pid = $1 and application_name = 'demo-relay-listen'",
                instance.relay.backend_pid,
            )
            assert killed is True
            return
        # Redis: every subscriber connection (both instances lose theirs; both must recover).
        client = aioredis.from_url(self.redis_url or "")
        try:
            assert len(await client.client_list(_type="pubsub")) == 2
            await client.client_kill_filter(_type="pubsub")
        finally:
            await client.aclose()

    async def session(self, instance: Instance, conversation_id: str | None) -> dict[str, Any]:
        if conversation_id is None:
            response = await instance.http.post(f"/api/demos/{self.demo_id}/watch", headers=owner_headers())
        else:
            response = await instance.http.post(
                f"/api/demos/{self.demo_id}/sessions",
                json={"conversation_id": conversation_id},
                headers=owner_headers(),
            )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def subscribe(
        self, instance: Instance, conversation_id: str | None = None, since: str | None = None
    ) -> ClientConnection:
        session = await self.session(instance, conversation_id)
        url = f"{session['websocket']['url']}?token={session['websocket']['token']}"
        ws = await connect(url + (f"&since={since}" if since else ""))
        assert json.loads(await ws.recv())["event"] == "subscribed"
        return ws


def play(title: str, conversation_id: str, call_id: str) -> bytes:
    return json.dumps(
        {
            "event_type": "conversation.tool_call",
            "conversation_id": conversation_id,
            "properties": {
                "name": "play_video",
                "tool_call_id": call_id,
                "arguments": json.dumps({"video_title": title}),
            },
        }
    ).encode()


async def post(instance: Instance, body: bytes) -> httpx.Response:
    return await instance.http.post("/api/tavus-webhook", content=body, headers=tavus_headers(body))


async def frames(ws: ClientConnection, count: int, within_s: float = 30.0) -> list[dict[str, Any]]:
    """`count` frames, then QUIET_S of silence (a frame more fails the test)."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(within_s):
        while len(got) < count:
            got.append(json.loads(await ws.recv()))
    with pytest.raises(TimeoutError):
        extra = await asyncio.wait_for(ws.recv(), QUIET_S)
        pytest.fail(f"one frame too many: {extra!r}")
    return got


@pytest.fixture(params=["postgres", "redis"])
async def pair(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> AsyncIterator[Pair]:
    backend: str = request.param
    async with AsyncExitStack() as stack:
        redis_url = stack.enter_context(redis_server(tmp_path / "redis")) if backend == "redis" else None
        instances = []
        for name in ("a", "b"):
            port = free_port()
            # One DATA_DIR (its media folder is the shared volume local storage needs across instances).
            settings = make_settings(
                tmp_path, database_url, port=port, hub_backend=backend, redis_url=redis_url
            )
            seeded = SeededApp(settings, database_url)
            base = await stack.enter_async_context(serving(seeded.app, port))
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
            instances.append(Instance(name, seeded, http))
        a, b = instances
        for instance in instances:
            await asyncio.wait_for(instance.relay.connected.wait(), 10)
        ready = Pair(a, b, a.seeded.demo_id, db_pool, backend, redis_url)
        for i in range(7):  # the conversations the tests play into, registered to the demo
            await ready.session(a, f"conv-{i}")
        yield ready


async def test_a_webhook_on_a_reaches_subscribers_on_a_and_b_once_each(pair: Pair) -> None:
    on_a = await pair.subscribe(pair.a, "conv-1")
    on_b = await pair.subscribe(pair.b, "conv-1")
    owner_on_b = await pair.subscribe(pair.b)
    response = await post(pair.a, play(TITLES[0], "conv-1", "call-1"))
    assert response.status_code == 200 and response.json()["status"] == "played", response.text
    for ws in (on_a, on_b, owner_on_b):
        [frame] = await frames(ws, 1)
        assert frame["event"] == "play_video" and frame["payload"]["title"] == TITLES[0]
    # Another prospect's video never reaches conv-1's viewer, on either instance.
    other = await post(pair.b, play(TITLES[1], "conv-2", "call-2"))
    assert other.status_code == 200, other.text
    [seen] = await frames(owner_on_b, 1)
    assert seen["payload"]["conversation_id"] == "conv-2"
    for ws in (on_a, on_b):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), QUIET_S)


async def test_a_thousand_webhooks_over_both_reach_everyone_once_in_commit_order(pair: Pair) -> None:
    subscribers = [await pair.subscribe(instance) for instance in (pair.a, pair.a, pair.b, pair.b)]
    count = 1000
    bodies = [play(TITLES[i % 3], f"conv-{i % 7}", f"call-{i:04d}") for i in range(count)]
    gate = asyncio.Semaphore(16)

    async def send(i: int) -> int:
        async with gate:
            return (await post(pair.a if i % 2 else pair.b, bodies[i])).status_code

    received = asyncio.gather(*(frames(ws, count, within_s=120) for ws in subscribers))
    statuses = await asyncio.gather(*(send(i) for i in range(count)))
    assert statuses == [200] * count
    committed = await pair.committed()
    assert len(committed) == count == len(set(committed))
    for got in await received:
        assert [frame["id"] for frame in got] == committed  # each once, in commit order


async def test_the_same_delivery_posted_to_a_and_b_at_once_plays_once(pair: Pair) -> None:
    watcher = await pair.subscribe(pair.b)
    body = play(TITLES[2], "conv-1", "call-twice")
    answers = await asyncio.gather(post(pair.a, body), post(pair.b, body))
    assert sorted(r.json()["status"] for r in answers) == ["duplicate", "played"]
    await frames(watcher, 1)


@pytest.mark.parametrize("heard_before", [True, False])
async def test_b_loses_its_listen_connection_and_its_subscribers_miss_nothing(
    pair: Pair, heard_before: bool
) -> None:
    on_b = await pair.subscribe(pair.b)
    if heard_before:  # else the channel has had no event at all when the connection drops
        await post(pair.a, play(TITLES[0], "conv-1", "before"))
        assert [f["payload"]["title"] for f in await frames(on_b, 1)] == [TITLES[0]]
    reconnects = pair.b.relay.reconnects
    await pair.kill_listener(pair.b)
    # Sent while B is away (or reconnecting): it must catch up from the log.
    for i in range(5):
        assert (await post(pair.a, play(TITLES[i % 3], "conv-1", f"gap-{i}"))).status_code == 200
    got = await frames(on_b, 5)
    assert [f["payload"]["tool_call_id"] for f in got] == [f"gap-{i}" for i in range(5)]
    assert pair.b.relay.reconnects > reconnects


async def test_since_gets_exactly_what_was_missed_and_late_joiners_the_current_video(pair: Pair) -> None:
    first = await pair.subscribe(pair.a, "conv-1")
    for i in range(3):
        await post(pair.a, play(TITLES[i], "conv-1", f"s-{i}"))
    seen = await frames(first, 3)
    await first.close()
    # Missed while away: two more, and one of another conversation the viewer may not see.
    await post(pair.b, play(TITLES[1], "conv-1", "s-3"))
    await post(pair.b, play(TITLES[2], "conv-2", "other"))
    await post(pair.a, play(TITLES[0], "conv-1", "s-4"))
    back = await pair.subscribe(pair.b, "conv-1", since=seen[1]["id"])
    got = await frames(back, 3)
    assert [f["payload"]["tool_call_id"] for f in got] == ["s-2", "s-3", "s-4"]
    # Live events keep coming after the replay, not twice.
    await post(pair.a, play(TITLES[1], "conv-1", "s-5"))
    assert [f["payload"]["tool_call_id"] for f in await frames(back, 1)] == ["s-5"]
    # An unknown `since` is a late join: the conversation's current video only.
    late = await pair.subscribe(pair.b, "conv-1", since=str(uuid.uuid4()))
    [current] = await frames(late, 1)
    assert current["payload"]["tool_call_id"] == "s-5"


async def test_instances_starting_together_on_an_empty_database_seed_one_demo(
    tmp_path: Path, empty_database_url: str
) -> None:
    async def start_and_seed(name: str) -> None:
        settings = make_settings(tmp_path / name, empty_database_url, hub_backend="postgres")
        container = build_container(settings)
        async with running(container, empty_database_url), container.database().exclusively():
            await container.seed_sample_demo().execute()

    await asyncio.gather(*(start_and_seed(f"i{i}") for i in range(3)))
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("select count(*) from demos") == 1
    finally:
        await conn.close()


async def test_a_draining_instance_is_not_ready_and_says_going_away(pair: Pair) -> None:
    ws = await pair.subscribe(pair.b)
    assert (await pair.b.http.get("/readyz")).status_code == 200
    pair.b.seeded.container.hub().close()  # what SIGTERM does first (GracefulServer)
    response = await pair.b.http.get("/readyz")
    assert response.status_code == 503 and response.json()["reason"] == "shutting down"
    await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.close_code == 1001
    assert (await pair.a.http.get("/readyz")).status_code == 200  # the other instance carries on


async def test_an_event_too_large_to_broadcast_goes_by_reference_and_arrives_whole(pair: Pair) -> None:
    watcher = await pair.subscribe(pair.b)
    payload = {
        "url": "https://cdn.example/v.mp4?sig=" + "x" * 80_000,
        "title": "Big",
        "conversation_id": None,
    }
    event = ChannelEvent(
        pair.channel, EventName.PLAY_VIDEO, payload, "evt-big", datetime.now(UTC), current_for_s=30.0
    )
    assert await pair.a.seeded.container.notifier().publish(event) == ("websocket",)
    [frame] = await frames(watcher, 1)
    assert frame["id"] == "evt-big" and frame["payload"]["url"] == payload["url"]
