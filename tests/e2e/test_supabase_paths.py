"""The Supabase path end to end: demo-relay (uvicorn, real app, real Postgres) with STORAGE=supabase and the
supabase notifier, against the local protocol-faithful Supabase (fake_supabase), checked
by the official clients: supabase-py's async Realtime client and @supabase/supabase-js under Node.

Proves the acceptance of the Supabase adapters issue:
1. a signed webhook's `play_video` reaches a supabase-py subscriber and a supabase-js subscriber, with a
   signed URL that downloads from Storage (`video/mp4`, Range → 206);
2. NOTIFIER=websocket with NOTIFIER_SESSIONS `demo-<B>=supabase`, `demo-<C>=both`: A's event reaches only the
   hub subscriber, B's only the supabase-js subscriber, C's both;
3. Storage down / 5xx / missing object and Realtime down / 5xx / slow each answer the documented status,
   record the failure, broadcast nothing (not even half of `both`), and the same webhook delivers once
   Supabase recovers;
4. N webhooks for one video within the TTL make one Storage sign call;
and: seeding into an empty project creates the bucket and uploads the clips; public URL mode; private
channels with the session's Realtime token."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets
from realtime import RealtimeSubscribeStates
from supabase import AsyncClient, acreate_client

from demo_relay.adapters.notifiers.supabase_realtime import SupabaseRealtimeNotifier
from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.adapters.sample_clips import load_samples
from demo_relay.bootstrap import build_container
from demo_relay.domain.models import Transport
from demo_relay.entrypoints.http.app import create_app
from tests.support.app import CONVERSATION, make_settings, owner_headers, tavus_headers
from tests.support.server import free_port, running
from tests.support.supabase import RunningFakeSupabase, node_listener, node_script, running_fake_supabase

BUCKET = "demo-videos"
SAMPLE = load_samples()[0]  # Product Overview, an MP4 of a few seconds


def tool_call(title: str, conversation: str, call_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "event_type": "conversation.tool_call",
            "conversation_id": conversation,
            "properties": {
                "name": "play_video",
                "tool_call_id": call_id or f"call_{uuid.uuid4().hex[:12]}",
                "arguments": json.dumps({"video_title": title}),
            },
        }
    ).encode()


@dataclass
class Relay:
    base: str
    supabase: RunningFakeSupabase
    pool: asyncpg.Pool
    demos: dict[str, str]  # "A" / "B" / "C" → demo id

    def channel(self, name: str) -> str:
        return f"demo-{self.demos[name]}"

    def conversation(self, name: str) -> str:
        return f"{CONVERSATION}-{name.lower()}"

    async def start_session(self, http: httpx.AsyncClient, name: str) -> dict[str, Any]:
        response = await http.post(
            f"{self.base}/api/demos/{self.demos[name]}/sessions",
            headers=owner_headers(),
            json={"conversation_id": self.conversation(name)},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def play(self, http: httpx.AsyncClient, name: str, body: bytes | None = None) -> httpx.Response:
        body = body or tool_call("product overview", self.conversation(name))
        return await http.post(f"{self.base}/api/tavus-webhook", content=body, headers=tavus_headers(body))

    async def ledger(self, body: bytes) -> tuple[str, str | None]:
        """The delivery's row once settled: a success is written behind the answer (write_behind.py), a
        failure before it; a row still 'processing' is read again for a while."""
        call_id = json.loads(body)["properties"]["tool_call_id"]
        async with asyncio.timeout(5):
            while True:
                row = await self.pool.fetchrow(
                    "select status, error from webhook_events where dedupe_key = $1", call_id
                )
                assert row is not None
                if row["status"] != "processing":
                    return row["status"], row["error"]
                await asyncio.sleep(0.01)


async def add_demo(catalog: AsyncpgDemoCatalog, supabase: RunningFakeSupabase, name: str) -> str:
    demo = await catalog.create_demo(f"Demo {name}", demo_id=str(uuid.uuid4()))
    path = f"{demo.id}/{SAMPLE.file.name}"
    supabase.fake.put_object(BUCKET, path, SAMPLE.file.read_bytes(), "video/mp4")
    await catalog.add_video(demo.id, SAMPLE.title, path, SAMPLE.duration_s)
    return demo.id


@pytest.fixture
async def supabase() -> AsyncIterator[RunningFakeSupabase]:
    async with running_fake_supabase(buckets=(BUCKET,)) as fake:
        yield fake


def supabase_settings(
    tmp_path: Path, database_url: str, supabase: RunningFakeSupabase, **overrides: Any
) -> Any:
    return make_settings(
        tmp_path,
        database_url,
        storage="supabase",
        supabase_url=supabase.url,
        supabase_service_role_key=supabase.service_key,
        supabase_anon_key=supabase.anon_key,
        storage_bucket=BUCKET,
        **overrides,
    )


@asynccontextmanager
async def serve_relay(
    settings: Any, database_url: str, on_ready: Any = None, **overrides: Any
) -> AsyncIterator[str]:
    port = free_port()  # the settings must know it: session answers carry ws://…:<port>/ws/… URLs
    settings = replace(settings, port=port)
    container = build_container(settings, **overrides)
    app = create_app(container, dsn=database_url, on_ready=on_ready)
    async with running(app, port) as base:
        yield base


@pytest.fixture
async def relay(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool, supabase: RunningFakeSupabase
) -> AsyncIterator[Relay]:
    catalog = AsyncpgDemoCatalog(db_pool, title_match_threshold=0.3)
    demos = {name: await add_demo(catalog, supabase, name) for name in "ABC"}
    settings = supabase_settings(
        tmp_path,
        database_url,
        supabase,
        notifier=Transport.WEBSOCKET,
        notifier_sessions={f"demo-{demos['B']}": Transport.SUPABASE, f"demo-{demos['C']}": Transport.BOTH},
    )
    # Realtime's "slow" must not make the suite slow: short attempts, same retry policy.
    http = httpx.AsyncClient()
    realtime = SupabaseRealtimeNotifier(
        http, supabase.url, supabase.service_key, False, attempt_timeout_s=0.3, total_timeout_s=2.0
    )
    try:
        async with serve_relay(settings, database_url, realtime_notifier=realtime) as base:
            yield Relay(base, supabase, db_pool, demos)
    finally:
        await http.aclose()


class HubInbox:
    """A WebSocket hub subscriber (the native `/ws` protocol, not Supabase Realtime)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def next_event(self, timeout: float = 5.0) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if frame["event"] not in ("subscribed", "pong"):
                return frame

    async def nothing_within(self, seconds: float) -> None:
        with pytest.raises(TimeoutError):
            frame = await self.next_event(seconds)
            raise AssertionError(f"unexpected hub frame {frame}")


async def hub_subscriber(stack: AsyncExitStack, session: Mapping[str, Any]) -> HubInbox:
    url = f"{session['websocket']['url']}?token={session['websocket']['token']}"
    ws = await stack.enter_async_context(websockets.connect(url))
    assert json.loads(await ws.recv())["event"] == "subscribed"
    return HubInbox(ws)


class PyInbox:
    """A supabase-py Realtime subscriber."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        self.subscribed = asyncio.Event()

    def on_state(self, state: RealtimeSubscribeStates, error: Exception | None) -> None:
        if state == RealtimeSubscribeStates.SUBSCRIBED:
            self.subscribed.set()

    async def next(self, timeout: float = 5.0) -> Mapping[str, Any]:
        return await asyncio.wait_for(self.messages.get(), timeout)


async def supabase_py_subscriber(stack: AsyncExitStack, supabase: RunningFakeSupabase, topic: str) -> PyInbox:
    client: AsyncClient = await acreate_client(supabase.url, supabase.anon_key)
    stack.push_async_callback(client.realtime.close)
    inbox = PyInbox()
    channel = client.channel(topic)
    await channel.on_broadcast("play_video", inbox.messages.put_nowait).subscribe(inbox.on_state)
    await asyncio.wait_for(inbox.subscribed.wait(), 5)
    return inbox


async def supabase_js_subscriber(
    stack: AsyncExitStack, supabase: RunningFakeSupabase, topic: str, *args: str
):
    listener = await stack.enter_async_context(
        node_listener(supabase.url, supabase.anon_key, "--topic", topic, *args)
    )
    assert await listener.status() == "SUBSCRIBED"
    return listener


async def assert_plays_from_storage(http: httpx.AsyncClient, supabase: RunningFakeSupabase, url: str) -> None:
    assert url.startswith(f"{supabase.url}/storage/v1/object/sign/{BUCKET}/"), url
    full = await http.get(url)
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.content == SAMPLE.file.read_bytes()
    part = await http.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100


# --- 1. the official clients receive the broadcast ------------------------------------------------


async def test_a_signed_webhook_reaches_supabase_py_and_supabase_js(relay: Relay) -> None:
    async with httpx.AsyncClient(timeout=10) as http, AsyncExitStack() as stack:
        session = await relay.start_session(http, "B")
        assert session["transport"] == "supabase"
        assert session["supabase"] == {
            "url": relay.supabase.url,
            "anon_key": relay.supabase.anon_key,
            "private": False,
            "topic": relay.channel("B"),
            "access_token": None,
            "access_token_expires_at": None,
        }
        assert relay.supabase.service_key not in json.dumps(session)  # never the service key
        py = await supabase_py_subscriber(stack, relay.supabase, relay.channel("B"))
        js = await supabase_js_subscriber(stack, relay.supabase, relay.channel("B"))

        response = await relay.play(http, "B")
        assert response.status_code == 200, response.text
        played = response.json()
        assert played["status"] == "played" and played["delivered_via"] == ["supabase"]

        from_py = await py.next()
        from_js = (await js.wait_for("broadcast"))["message"]
        assert from_js["event"] == "play_video" and from_py["event"] == "play_video"
        for payload in (from_py["payload"], from_js["payload"]):
            assert payload["url"] == played["video"]["url"]
            assert payload["title"] == "Product Overview" and payload["demo_id"] == relay.demos["B"]
            assert payload["conversation_id"] == relay.conversation("B") and payload["expires_at"]
            assert payload["event_id"]
        await assert_plays_from_storage(http, relay.supabase, played["video"]["url"])
        [message] = relay.supabase.fake.stats.broadcasts
        assert message["topic"] == relay.channel("B") and message["private"] is False


# --- 2. the per-session choice --------------------------------------------------------------------


async def test_each_session_gets_the_transport_its_configuration_names(relay: Relay) -> None:
    async with httpx.AsyncClient(timeout=10) as http, AsyncExitStack() as stack:
        hubs, js = {}, {}
        for name in "ABC":
            session = await relay.start_session(http, name)
            # `both`: the page takes the hub (it needs no Supabase credentials); Supabase clients get it too.
            assert session["transport"] == ("supabase" if name == "B" else "websocket")
            hubs[name] = await hub_subscriber(stack, session)
            js[name] = await supabase_js_subscriber(stack, relay.supabase, relay.channel(name))

        delivered = {}
        for name in "ABC":
            response = await relay.play(http, name)
            assert response.status_code == 200, response.text
            delivered[name] = response.json()["delivered_via"]
        assert delivered == {"A": ["websocket"], "B": ["supabase"], "C": ["supabase", "websocket"]}

        assert (await hubs["A"].next_event())["payload"]["demo_id"] == relay.demos["A"]
        assert (await js["B"].wait_for("broadcast"))["message"]["payload"]["demo_id"] == relay.demos["B"]
        assert (await hubs["C"].next_event())["payload"]["demo_id"] == relay.demos["C"]
        assert (await js["C"].wait_for("broadcast"))["message"]["payload"]["demo_id"] == relay.demos["C"]
        await js["A"].no_broadcast_within(0.5)
        await hubs["B"].nothing_within(0.3)
        assert [m["topic"] for m in relay.supabase.fake.stats.broadcasts] == [
            relay.channel("B"),
            relay.channel("C"),
        ]


# --- 3. failures: documented status, recorded, nothing half-done, the retry delivers ----------------

FAULTS = [
    pytest.param("storage", {"down": True}, 502, "storage_unavailable", id="storage-down"),
    pytest.param("storage", {"status": 500}, 502, "storage_unavailable", id="storage-5xx"),
    pytest.param("realtime_rest", {"down": True}, 502, "transport_unavailable", id="realtime-down"),
    pytest.param("realtime_rest", {"status": 503}, 502, "transport_unavailable", id="realtime-5xx"),
    pytest.param("realtime_rest", {"delay_s": 1.0}, 502, "transport_unavailable", id="realtime-slow"),
]


@pytest.mark.parametrize(("service", "fault", "status", "code"), FAULTS)
async def test_a_supabase_failure_sends_nothing_and_the_retry_delivers(
    relay: Relay, service: Any, fault: dict[str, Any], status: int, code: str
) -> None:
    async with httpx.AsyncClient(timeout=10) as http, AsyncExitStack() as stack:
        session = await relay.start_session(http, "C")  # `both`: nothing may reach even the hub
        hub = await hub_subscriber(stack, session)
        js = await supabase_js_subscriber(stack, relay.supabase, relay.channel("C"))
        relay.supabase.fake.inject(service, times=None, **fault)
        body = tool_call("product overview", relay.conversation("C"))

        response = await relay.play(http, "C", body)
        assert response.status_code == status, response.text
        assert response.json()["error"] == code
        # The client is told which dependency failed; what went wrong is recorded for us, not sent to it.
        assert response.json()["message"].endswith("unavailable; retry later")
        recorded_code, recorded_error = await relay.ledger(body)
        assert recorded_code == code and "Supabase" in recorded_error
        assert recorded_error not in response.text
        await hub.nothing_within(0.3)
        await js.no_broadcast_within(0.3)
        assert relay.supabase.fake.stats.broadcasts == []
        if service == "realtime_rest":  # bounded retries: more than one attempt, a handful at most
            assert 2 <= relay.supabase.fake.stats.requests["realtime_rest"] <= 5

        relay.supabase.fake.clear_faults()
        retry = await relay.play(http, "C", body)
        assert retry.status_code == 200, retry.text
        assert retry.json()["delivered_via"] == ["supabase", "websocket"]
        assert (await hub.next_event())["payload"]["url"] == retry.json()["video"]["url"]
        assert (await js.wait_for("broadcast"))["message"]["payload"]["url"] == retry.json()["video"]["url"]
        assert await relay.ledger(body) == ("played", None)
        again = await relay.play(http, "C", body)
        assert again.json() == {"status": "duplicate"}
        await hub.nothing_within(0.3)
        assert len(relay.supabase.fake.stats.broadcasts) == 1


async def test_a_transient_realtime_5xx_is_retried_within_the_same_delivery(relay: Relay) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        await relay.start_session(http, "B")
        relay.supabase.fake.inject("realtime_rest", status=503, times=1)
        response = await relay.play(http, "B")
        assert response.status_code == 200, response.text
        assert relay.supabase.fake.stats.requests["realtime_rest"] == 2
        assert len(relay.supabase.fake.stats.broadcasts) == 1


async def test_a_missing_object_is_video_missing_until_it_is_uploaded(relay: Relay) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        await relay.start_session(http, "B")
        path = f"{relay.demos['B']}/{SAMPLE.file.name}"
        data = relay.supabase.fake.objects.pop(f"{BUCKET}/{path}").data
        body = tool_call("Product Overview", relay.conversation("B"))

        response = await relay.play(http, "B", body)
        assert response.status_code == 404
        assert response.json()["error"] == "video_missing" and response.json()["path"] == f"{BUCKET}/{path}"
        assert (await relay.ledger(body))[0] == "video_missing"
        assert relay.supabase.fake.stats.broadcasts == []

        relay.supabase.fake.put_object(BUCKET, path, data, "video/mp4")
        retry = await relay.play(http, "B", body)
        assert retry.status_code == 200 and len(relay.supabase.fake.stats.broadcasts) == 1


# --- 4. the signed-URL cache ----------------------------------------------------------------------


async def test_n_webhooks_for_one_video_make_one_storage_call(relay: Relay) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        await relay.start_session(http, "A")
        sequential = [await relay.play(http, "A") for _ in range(5)]
        concurrent = await asyncio.gather(*(relay.play(http, "A") for _ in range(5)))
        urls = {r.json()["video"]["url"] for r in [*sequential, *concurrent]}
        assert all(r.status_code == 200 for r in [*sequential, *concurrent])
        assert len(urls) == 1
        assert relay.supabase.fake.sign_count(BUCKET, f"{relay.demos['A']}/{SAMPLE.file.name}") == 1
        await assert_plays_from_storage(http, relay.supabase, urls.pop())


# --- seeding, public URLs, private channels -------------------------------------------------------


async def test_serve_seeds_an_empty_project_bucket_included(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    async with running_fake_supabase() as supabase, httpx.AsyncClient(timeout=10) as http:
        settings = supabase_settings(tmp_path, database_url, supabase, notifier=Transport.SUPABASE)

        async def seed(container: Any) -> None:
            await container.seed_sample_demo().execute()

        async with serve_relay(settings, database_url, on_ready=seed) as base:
            assert BUCKET in supabase.fake.buckets and not supabase.fake.buckets[BUCKET].public
            [demo] = (await http.get(f"{base}/api/demos")).json()
            assert len(demo["videos"]) == 3
            assert sorted(supabase.fake.stats.uploads) == sorted(
                f"{BUCKET}/{demo['id']}/{s.file.name}" for s in load_samples()
            )
            await http.post(
                f"{base}/api/demos/{demo['id']}/sessions",
                headers=owner_headers(),
                json={"conversation_id": "c-seed"},
            )
            body = tool_call("Product Overview", "c-seed")
            played = await http.post(f"{base}/api/tavus-webhook", content=body, headers=tavus_headers(body))
            assert played.status_code == 200, played.text
            await assert_plays_from_storage(http, supabase, played.json()["video"]["url"])


async def test_public_url_mode(tmp_path: Path, database_url: str, db_pool: asyncpg.Pool) -> None:
    async with running_fake_supabase() as supabase, httpx.AsyncClient(timeout=10) as http:
        supabase.fake.create_bucket(BUCKET, public=True)
        demo_id = await add_demo(AsyncpgDemoCatalog(db_pool, title_match_threshold=0.3), supabase, "P")
        settings = supabase_settings(tmp_path, database_url, supabase, storage_url_mode="public")
        async with serve_relay(settings, database_url) as base:
            await http.post(
                f"{base}/api/demos/{demo_id}/sessions",
                headers=owner_headers(),
                json={"conversation_id": "c-pub"},
            )
            body = tool_call("product overview", "c-pub")
            played = await http.post(f"{base}/api/tavus-webhook", content=body, headers=tavus_headers(body))
            assert played.status_code == 200, played.text
            url = played.json()["video"]["url"]
            assert url == f"{supabase.url}/storage/v1/object/public/{BUCKET}/{demo_id}/{SAMPLE.file.name}"
            assert (await http.get(url)).headers["content-type"] == "video/mp4"
            assert supabase.fake.stats.sign_total == 0


def our_policy(topic: str, claims: Mapping[str, Any]) -> bool:
    """What the migration's RLS policy decides: an authenticated holder, on the one topic its token names."""
    return claims.get("role") == "authenticated" and claims.get("demo_relay_topic") == topic


async def test_private_channels_keep_each_viewer_to_its_own_conversation(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    """Two prospects on one demo, private channels: each page's Realtime token admits it to its own
    conversation's topic only (not the demo-wide one, not the other prospect's); a video of one reaches
    that prospect and the owner watching the demo, and is never even sent to the other prospect's topic."""
    async with (
        running_fake_supabase(buckets=(BUCKET,), authorize=our_policy) as supabase,
        httpx.AsyncClient(timeout=10) as http,
        AsyncExitStack() as stack,
    ):
        catalog = AsyncpgDemoCatalog(db_pool, title_match_threshold=0.3)
        demo = await add_demo(catalog, supabase, "M")
        settings = supabase_settings(
            tmp_path,
            database_url,
            supabase,
            notifier=Transport.SUPABASE,
            realtime_private=True,
            supabase_jwt_secret=supabase.fake.jwt_secret,
        )
        base = await stack.enter_async_context(serve_relay(settings, database_url))

        async def session(body: dict[str, str] | None) -> dict[str, Any]:
            path = "sessions" if body is not None else "watch"  # no conversation: the owner's watch session
            response = await http.post(f"{base}/api/demos/{demo}/{path}", headers=owner_headers(), json=body)
            assert response.status_code == 201, response.text
            access: dict[str, Any] = response.json()["supabase"]
            assert access["private"] is True and access["access_token"]
            return access

        mine, theirs, owner = (
            await session({"conversation_id": "c-priv"}),
            await session({"conversation_id": "c-other"}),
            await session(None),
        )
        assert (mine["topic"], theirs["topic"], owner["topic"]) == (
            f"demo-{demo}:c-priv",
            f"demo-{demo}:c-other",
            f"demo-{demo}",
        )
        # Minutes, not hours: a leaked Realtime token is soon worth nothing (the page renews it).
        lives_s = (
            datetime.fromisoformat(mine["access_token_expires_at"]) - datetime.now(UTC)
        ).total_seconds()
        assert 590 <= lives_s <= 600

        for topic in (owner["topic"], theirs["topic"]):  # my token opens neither the demo's nor theirs
            refused = await stack.enter_async_context(
                node_listener(
                    supabase.url,
                    mine["anon_key"],
                    "--topic",
                    topic,
                    "--private",
                    "--token",
                    mine["access_token"],
                )
            )
            assert await refused.status() == "CHANNEL_ERROR", topic
        listeners = {
            name: await supabase_js_subscriber(
                stack, supabase, access["topic"], "--private", "--token", access["access_token"]
            )
            for name, access in (("mine", mine), ("theirs", theirs), ("owner", owner))
        }
        body = tool_call("product overview", "c-priv")
        played = await http.post(f"{base}/api/tavus-webhook", content=body, headers=tavus_headers(body))
        assert played.status_code == 200, played.text
        for name in ("mine", "owner"):
            message = (await listeners[name].wait_for("broadcast"))["message"]
            assert message["payload"]["url"] == played.json()["video"]["url"], name
        sent = {b["topic"]: b for b in supabase.fake.stats.broadcasts}
        assert set(sent) == {mine["topic"], owner["topic"]}  # nothing for the other prospect's topic
        assert all(b["private"] is True and b["delivered"] == 1 for b in sent.values()), sent


# --- the owner API on Supabase Storage ------------------------------------------------------------


async def test_owner_uploads_go_to_the_bucket_and_deletes_remove_them(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    """An upload through the service lands in the project's bucket (supabase-py lists and downloads it),
    its signed URL plays, and deleting the video, then the demo, removes the objects."""
    async with (
        running_fake_supabase(buckets=(BUCKET,)) as supabase,
        httpx.AsyncClient(timeout=20) as http,
        AsyncExitStack() as stack,
    ):
        base = await stack.enter_async_context(
            serve_relay(supabase_settings(tmp_path, database_url, supabase), database_url)
        )
        demo = (await http.post(f"{base}/api/demos", json={"name": "Bucket"}, headers=owner_headers())).json()
        clips = []
        for sample in load_samples()[:2]:
            uploaded = await http.post(
                f"{base}/api/demos/{demo['id']}/videos",
                files={"file": (sample.file.name, sample.file.read_bytes(), "video/mp4")},
                data={"title": sample.title},
                headers=owner_headers(),
            )
            assert uploaded.status_code == 201, uploaded.text
            clips.append(uploaded.json())
        refused = await http.post(
            f"{base}/api/demos/{demo['id']}/videos",
            files={"file": ("notes.mp4", b"a text file that says it is a video", "video/mp4")},
            headers=owner_headers(),
        )
        assert refused.status_code == 415 and refused.json()["error"] == "unsupported_media_type"
        client: AsyncClient = await acreate_client(supabase.url, supabase.service_key)
        listed = await client.storage.from_(BUCKET).list(demo["id"])
        assert len(listed) == 2  # nothing of the refused one reached the bucket
        assert supabase.fake.stats.uploads.total() == 2
        stored = f"{demo['id']}/{listed[0]['name']}"
        assert await client.storage.from_(BUCKET).download(stored) in {
            s.file.read_bytes() for s in load_samples()[:2]
        }
        session = await http.post(
            f"{base}/api/demos/{demo['id']}/sessions",
            json={"conversation_id": "c-owner"},
            headers=owner_headers(),
        )
        assert session.status_code == 201
        body = tool_call(clips[0]["title"], "c-owner")
        played = await http.post(f"{base}/api/tavus-webhook", content=body, headers=tavus_headers(body))
        assert played.status_code == 200, played.text
        await assert_plays_from_storage(http, supabase, played.json()["video"]["url"])

        gone = await http.delete(
            f"{base}/api/demos/{demo['id']}/videos/{clips[0]['id']}", headers=owner_headers()
        )
        assert gone.status_code == 204
        assert len(await client.storage.from_(BUCKET).list(demo["id"])) == 1
        assert (
            await http.delete(f"{base}/api/demos/{demo['id']}", headers=owner_headers())
        ).status_code == 204
        assert await client.storage.from_(BUCKET).list(demo["id"]) == []


async def signed_upload(supabase: RunningFakeSupabase, grant: dict[str, Any], file: Path) -> dict[str, Any]:
    """supabase-js `uploadToSignedUrl` with what the relay handed out."""
    return await node_script(
        "supabase_signed_upload.mjs", "--url", supabase.url, "--key", supabase.anon_key,
        "--bucket", grant["bucket"], "--path", grant["path"], "--token", grant["token"], "--file", str(file),
    )  # fmt: skip


async def test_the_page_uploads_straight_to_the_bucket_and_the_relay_checks_the_object(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    """Direct uploads (DESIGN §11): the relay signs an upload URL, supabase-js uploads to it, and the relay
    lists the video only once the object's bytes pass the upload's checks (type, size, duration read from
    it); an object that fails them is removed from the bucket; a path the relay did not sign is refused."""
    async with (
        running_fake_supabase(buckets=(BUCKET,)) as supabase,
        httpx.AsyncClient(timeout=20) as http,
        AsyncExitStack() as stack,
    ):
        base = await stack.enter_async_context(
            serve_relay(
                supabase_settings(tmp_path, database_url, supabase, max_video_bytes=2_000_000), database_url
            )
        )
        config = (await http.get(f"{base}/api/auth-config")).json()
        assert config["direct_uploads"] == {"url": supabase.url, "anon_key": supabase.anon_key}
        demo = (await http.post(f"{base}/api/demos", json={"name": "Direct"}, headers=owner_headers())).json()
        direct = f"{base}/api/demos/{demo['id']}/videos/direct"

        async def grant(filename: str, size: int | None = None) -> dict[str, Any]:
            body: dict[str, Any] = {"filename": filename} | ({"size_bytes": size} if size is not None else {})
            response = await http.post(direct, json=body, headers=owner_headers())
            assert response.status_code == 201, response.text
            answer: dict[str, Any] = response.json()
            return answer

        ticket = await grant("Pricing tour.mp4", SAMPLE.file.stat().st_size)
        assert ticket["bucket"] == BUCKET and ticket["path"].startswith(f"{demo['id']}/upload-")
        uploaded = await signed_upload(supabase, ticket, SAMPLE.file)
        assert "error" not in uploaded, uploaded
        done = await http.post(
            f"{direct}/done", json={"path": ticket["path"], "title": "Pricing tour"}, headers=owner_headers()
        )
        assert done.status_code == 201, done.text
        assert (done.json()["duration_s"], done.json()["content_type"]) == (SAMPLE.duration_s, "video/mp4")
        # A repeated "done" lists nothing and keeps the object.
        for title in ("Pricing tour", "Another title"):
            again = await http.post(
                f"{direct}/done", json={"path": ticket["path"], "title": title}, headers=owner_headers()
            )
            assert again.status_code == 409 and again.json()["error"] == "already_listed", again.text
        assert supabase.fake.get_object(BUCKET, ticket["path"]) is not None

        fake_video = tmp_path / "notes.mp4"
        fake_video.write_bytes(b"plain text pretending to be a video")
        bad = await grant("notes.mp4")
        assert "error" not in await signed_upload(supabase, bad, fake_video)
        assert supabase.fake.get_object(BUCKET, bad["path"]) is not None
        refused = await http.post(
            f"{direct}/done", json={"path": bad["path"], "title": "Notes"}, headers=owner_headers()
        )
        assert refused.status_code == 415 and refused.json()["error"] == "unsupported_media_type"
        assert supabase.fake.get_object(BUCKET, bad["path"]) is None  # removed, not listed

        too_big = await http.post(
            direct, json={"filename": "huge.mp4", "size_bytes": 10**9}, headers=owner_headers()
        )
        assert too_big.status_code == 413
        for path, body in ((direct, {"filename": "a.mp4"}), (f"{direct}/done", {"path": "x", "title": "x"})):
            for headers in ({}, {"authorization": "Bearer not-the-owner-token-0123"}):
                unowned = await http.post(path, json=body, headers=headers)
                assert unowned.status_code == 401, (path, headers)
        stolen = await http.post(
            f"{direct}/done",
            json={"path": f"{demo['id']}/{SAMPLE.file.name}", "title": "X"},
            headers=owner_headers(),
        )
        assert stolen.status_code == 422 and stolen.json()["field"] == "path"
        never = await grant("never.mp4")
        missing = await http.post(
            f"{direct}/done", json={"path": never["path"], "title": "Never"}, headers=owner_headers()
        )
        assert missing.status_code == 404 and missing.json()["error"] == "video_missing"
        listed = (await http.get(f"{base}/api/demos/{demo['id']}")).json()["videos"]
        assert [v["title"] for v in listed] == ["Pricing tour"]
        assert (
            await db_pool.fetchval("select count(*) from demo_videos where demo_id = $1::uuid", demo["id"])
            == 1
        )
