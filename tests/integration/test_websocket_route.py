"""GET /ws/{channel} over a real socket (uvicorn in-process, the `websockets` client): a valid
token subscribes (`subscribed` first) and published play_video events arrive as the exact wire frame; a
late subscriber gets the current video; bad, expired or other-channel tokens and disallowed Origins are
refused with HTTP 403 before the upgrade, while clients without Origin are allowed; ping → pong; malformed
frames are ignored; a client message over 4 KiB closes that client with 1009 (whether uvicorn's limit or
the handler's own catches it) while another client of the channel keeps receiving; a client that falls
behind is closed with 1013; subscriptions are released when clients leave; hub shutdown closes with 1001."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from litestar import Litestar
from litestar.di import Provide
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from demo_relay.adapters.notifiers.websocket_hub import WebSocketHub
from demo_relay.adapters.tokens.jwt_tokens import JwtChannelTokens
from demo_relay.config import Settings
from demo_relay.domain.models import ChannelEvent, EventName
from demo_relay.entrypoints.http.limits import ConnectionLimits
from demo_relay.entrypoints.http.ws import ws_handler
from demo_relay.entrypoints.http.ws_direct import expose_websocket_protocol
from tests.support.fakes import FakeClock, FakeConversations

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
CHANNEL = "demo-3f0c2a8e-8d1b-4a57-9d5e-0b6f1c2d3e4f"
OTHER = "demo-9a9a9a9a-0000-4000-8000-000000000009"
ALLOWED_ORIGIN = "http://app.example:5173"
SECRET = "integration-secret-0123456789-abcdefghijkl"
TIMEOUT = 5.0  # generous upper bounds; every wait returns as soon as its event happens


@dataclass
class Server:
    base: str  # ws://127.0.0.1:<port>
    hub: WebSocketHub
    tokens: JwtChannelTokens
    clock: FakeClock
    conversations: FakeConversations

    def url(self, channel: str = CHANNEL, token: str | None = None) -> str:
        if token is None:
            token, _ = self.tokens.issue(channel)
        return f"{self.base}/ws/{channel}?token={token}"


@contextlib.asynccontextmanager
async def running_server(
    ws_max_size: int = 4096,
    queue_size: int = 256,
    limits: ConnectionLimits | None = None,
    *,
    direct: bool = False,
) -> AsyncIterator[Server]:
    """`direct`: the app exposes uvicorn's protocol to the handler as `serve`'s does, so the hub writes
    frames straight to the transport (ws_direct.py); otherwise every frame goes through ASGI."""
    clock = FakeClock(T0)
    hub = WebSocketHub(clock, queue_size=queue_size)
    tokens = JwtChannelTokens(SECRET, ttl_s=600, clock=clock)
    settings = Settings(allowed_origins=(ALLOWED_ORIGIN,), ws_max_message_bytes=4096)
    connection_limits = limits or ConnectionLimits(per_token=1000, per_client=1000)
    conversations = FakeConversations()
    app = Litestar(
        route_handlers=[ws_handler],
        logging_config=None,  # Litestar's default replaces the root handlers, hiding records from caplog
        dependencies={
            "hub": Provide(lambda: hub, sync_to_thread=False),
            "tokens": Provide(lambda: tokens, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "connection_limits": Provide(lambda: connection_limits, sync_to_thread=False),
            "conversations": Provide(lambda: conversations, sync_to_thread=False),
        },
    )
    if direct:
        app.asgi_handler = expose_websocket_protocol(app.asgi_handler)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        ws="websockets-sansio",
        ws_per_message_deflate=not direct,  # compression negotiated: frames must go through ASGI
        ws_max_size=ws_max_size,
        lifespan="on",
        log_level="warning",
        timeout_graceful_shutdown=int(TIMEOUT),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done())
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Server(f"ws://127.0.0.1:{port}", hub, tokens, clock, conversations)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, TIMEOUT)


@pytest.fixture(autouse=True)
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A failing drain/receive task is logged, not raised to the client: make such failures fail tests."""
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture(params=["asgi", "direct"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    """Every test of this file that takes `server` runs twice: frames through ASGI (a drain task per
    socket), and written straight to the transport by the hub."""
    async with running_server(direct=request.param == "direct") as running:
        yield running


async def eventually(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), TIMEOUT)


async def receive(ws: Connection) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert isinstance(frame, str), "every server message is a JSON text frame"
    decoded: dict[str, Any] = json.loads(frame)
    return decoded


async def subscribe(server: Server, channel: str = CHANNEL, **kwargs: Any) -> ClientConnection:
    ws = await connect(server.url(channel), open_timeout=TIMEOUT, **kwargs)
    assert await receive(ws) == {"event": "subscribed", "payload": {"channel": channel}}
    return ws


async def close_code(ws: Connection) -> int | None:
    """The code the server closed with (waits for the close, drains anything still in flight)."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
    return ws.close_code


def play(server: Server, event_id: str = "evt-1", current_for_s: float = 15.0) -> ChannelEvent:
    return ChannelEvent(
        channel=CHANNEL,
        event=EventName.PLAY_VIDEO,
        payload={
            "url": "https://cdn.example/intro.mp4?token=abc",
            "title": "Intro",
            "video_id": "v-1",
            "demo_id": CHANNEL.removeprefix("demo-"),
            "conversation_id": "c123",
            "tool_call_id": "call-1",
            "expires_at": "2025-01-02T04:04:05Z",
        },
        id=event_id,
        sent_at=server.clock.now(),
        current_for_s=current_for_s,
    )


def wire(event: ChannelEvent) -> dict[str, Any]:
    return {
        "channel": event.channel,
        "event": str(event.event),
        "payload": dict(event.payload),
        "id": event.id,
        "sent_at": "2025-01-02T03:04:05Z",
    }


async def test_valid_token_subscribes_then_receives_the_exact_frame(server: Server) -> None:
    async with await subscribe(server) as ws:
        assert server.hub.subscriber_count(CHANNEL) == 1
        event = play(server)

        assert server.hub.publish(event) == 1

        frame = await receive(ws)
        assert frame == wire(event)
        assert list(frame) == ["channel", "event", "payload", "id", "sent_at"]


async def test_late_subscriber_gets_the_current_video(server: Server) -> None:
    event = play(server, current_for_s=15.0)
    server.hub.publish(event)  # nobody is connected yet
    server.clock.advance(10)

    async with await subscribe(server) as ws:
        assert await receive(ws) == wire(event)


async def test_no_video_after_session_ended_or_window(server: Server) -> None:
    server.hub.publish(play(server, current_for_s=15.0))
    server.hub.publish(
        ChannelEvent(CHANNEL, EventName.SESSION_ENDED, {"conversation_id": "c123", "reason": "x"}, "e", T0)
    )

    async with await subscribe(server) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert await receive(ws) == {"event": "pong"}  # nothing was queued before it


@pytest.mark.parametrize(
    "make_url",
    [
        pytest.param(lambda s: f"{s.base}/ws/{CHANNEL}", id="no-token"),
        pytest.param(lambda s: s.url(token=""), id="empty-token"),
        pytest.param(lambda s: s.url(token="not-a-jwt"), id="garbage"),
        pytest.param(
            lambda s: s.url(token=JwtChannelTokens("x" * 40, 600, s.clock).issue(CHANNEL)[0]),
            id="bad-signature",
        ),
        pytest.param(lambda s: s.url(token=s.tokens.issue(OTHER)[0]), id="other-channel"),
        pytest.param(
            lambda s: f"{s.base}/ws/not-a-demo?token={s.tokens.issue('not-a-demo')[0]}", id="bad-channel"
        ),
    ],
)
async def test_invalid_tokens_are_refused_before_upgrade(
    server: Server, make_url: Callable[[Server], str]
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(make_url(server), open_timeout=TIMEOUT)

    assert refused.value.response.status_code == 403
    assert server.hub.channel_count() == 0


async def test_expired_token_is_refused(server: Server) -> None:
    token, _ = server.tokens.issue(CHANNEL)
    server.clock.advance(600 + 6)  # past `exp` and the leeway

    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url(token=token), open_timeout=TIMEOUT)

    assert refused.value.response.status_code == 403


async def test_disallowed_origin_is_refused(server: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url(), origin=Origin("https://evil.example"), open_timeout=TIMEOUT)

    assert refused.value.response.status_code == 403
    assert server.hub.channel_count() == 0


async def test_allowed_origin_and_no_origin_are_accepted(server: Server) -> None:
    async with await subscribe(server, origin=Origin(ALLOWED_ORIGIN)), await subscribe(server):
        assert server.hub.subscriber_count(CHANNEL) == 2


async def test_ping_gets_pong(server: Server) -> None:
    async with await subscribe(server) as ws:
        await ws.send('{"type":"ping"}')
        assert await receive(ws) == {"event": "pong"}
        await ws.send(b'{"type":"ping","extra":1}')  # binary frames and unknown fields are fine
        assert await receive(ws) == {"event": "pong"}


async def test_malformed_frames_are_ignored(server: Server) -> None:
    async with await subscribe(server) as ws, await subscribe(server) as other:
        junk_frames: list[str | bytes] = [
            "not json",
            "{",
            "[]",
            "null",
            '{"type":"nope"}',
            '{"type":1}',
            "{}",
            b"\x00\xff",
        ]
        for junk in junk_frames:
            await ws.send(junk)
        await ws.send('{"type":"ping"}')
        assert await receive(ws) == {"event": "pong"}  # still connected, junk answered with nothing

        event = play(server)
        server.hub.publish(event)
        assert await receive(ws) == wire(event)
        assert await receive(other) == wire(event)


@pytest.mark.parametrize(
    "uvicorn_limit",
    [
        pytest.param(4096, id="uvicorn-limit"),
        pytest.param(65536, id="handler-limit"),  # uvicorn lets it through; the handler's own check closes
    ],
)
async def test_oversized_message_closes_only_that_client_with_1009(uvicorn_limit: int) -> None:
    async with (
        running_server(ws_max_size=uvicorn_limit) as server,
        await subscribe(server) as big,
        await subscribe(server) as bystander,
    ):
        await big.send("x" * 4097)

        assert await close_code(big) == 1009
        await eventually(lambda: server.hub.subscriber_count(CHANNEL) == 1)
        event = play(server)
        assert server.hub.publish(event) == 1
        assert await receive(bystander) == wire(event)


async def test_message_at_the_limit_is_accepted(server: Server) -> None:
    async with await subscribe(server) as ws:
        await ws.send(json.dumps({"type": "ping", "pad": "x" * (4096 - 27)}))
        assert await receive(ws) == {"event": "pong"}


async def test_client_that_falls_behind_is_closed_with_1013() -> None:
    async with (
        running_server(queue_size=2) as server,
        await subscribe(server) as slow,
        await subscribe(server, OTHER) as elsewhere,
    ):
        # Published back to back with no await in between: the connection cannot drain meanwhile.
        for n in range(3):
            server.hub.publish(play(server, f"evt-{n}"))

        assert await close_code(slow) == 1013
        elsewhere_event = ChannelEvent(OTHER, EventName.PLAY_VIDEO, {"title": "x"}, "o-1", T0, 15.0)
        assert server.hub.publish(elsewhere_event) == 1
        assert (await receive(elsewhere))["id"] == "o-1"


async def test_leaving_releases_the_subscription(server: Server) -> None:
    ws = await subscribe(server)
    assert server.hub.channel_count() == 1

    await ws.close()

    await eventually(lambda: server.hub.channel_count() == 0)


async def test_hub_shutdown_closes_clients_with_1001(server: Server) -> None:
    ws = await subscribe(server)

    server.hub.close()

    assert await close_code(ws) == 1001


async def test_connections_are_capped_per_token_and_per_client_address() -> None:
    async with running_server(limits=ConnectionLimits(per_token=2, per_client=3)) as server:
        token, _ = server.tokens.issue(CHANNEL)
        first = await connect(server.url(token=token), open_timeout=TIMEOUT)
        second = await connect(server.url(token=token), open_timeout=TIMEOUT)
        with pytest.raises(InvalidStatus) as refused:
            await connect(server.url(token=token), open_timeout=TIMEOUT)
        assert refused.value.response.status_code == 403
        server.clock.advance(1)  # tokens issued in the same second for one channel are the same token
        other = await connect(server.url(), open_timeout=TIMEOUT)  # another token, same address: the 3rd
        server.clock.advance(1)
        with pytest.raises(InvalidStatus):
            await connect(server.url(), open_timeout=TIMEOUT)  # the address is full
        await first.close()
        await eventually(lambda: server.hub.subscriber_count(CHANNEL) == 2)
        again = await connect(server.url(token=token), open_timeout=TIMEOUT)  # a slot was released
        for ws in (second, other, again):
            await ws.close()


async def test_a_token_of_an_ended_conversation_no_longer_subscribes(server: Server) -> None:
    await server.conversations.register("conv-1", "d1", None)
    token, _ = server.tokens.issue(CHANNEL, "conv-1")
    async with await connect(server.url(token=token), open_timeout=TIMEOUT) as live:
        assert await receive(live) == {"event": "subscribed", "payload": {"channel": CHANNEL}}
    await server.conversations.end("conv-1")
    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url(token=token), open_timeout=TIMEOUT)
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("direct", [False, True], ids=["asgi", "direct"])
async def test_the_hub_writes_to_the_transport_only_where_the_app_exposes_it(direct: bool) -> None:
    async with running_server(direct=direct) as server, await subscribe(server) as ws:
        await eventually(lambda: server.hub.subscriber_count(CHANNEL) == 1)
        (subscription,) = server.hub._channels[CHANNEL].subscribers  # which path it took
        assert (subscription.writer is not None) is direct
        event = play(server)
        assert server.hub.publish(event) == 1
        assert await receive(ws) == wire(event)  # the same bytes either way


async def test_direct_client_that_falls_behind_is_closed_with_1013() -> None:
    """Written straight to the transport, "behind" is the bytes the kernel would not take: past the limit
    (256 KiB unsent) the hub drops the client, and the others keep receiving."""
    async with (
        running_server(direct=True) as server,
        await subscribe(server, max_queue=1) as slow,  # reads one frame ahead, then leaves the rest unread
        await subscribe(server, OTHER) as elsewhere,
    ):
        await eventually(lambda: server.hub.subscriber_count(CHANNEL) == 1)
        big = {"title": "x" * 60_000}
        published = 0
        for n in range(1000):  # 60 MB at most; loopback buffers take a few MB before the transport's fill
            if (
                server.hub.publish(ChannelEvent(CHANNEL, EventName.PLAY_VIDEO, big, f"big-{n}", T0, 15.0))
                == 0
            ):
                break
            published += 1
        assert 0 < published < 1000
        assert server.hub.subscriber_count(CHANNEL) == 0
        assert await close_code(slow) == 1013
        elsewhere_event = ChannelEvent(OTHER, EventName.PLAY_VIDEO, {"title": "x"}, "o-1", T0, 15.0)
        assert server.hub.publish(elsewhere_event) == 1
        assert (await receive(elsewhere))["id"] == "o-1"
