"""GET /ws/{channel}?token=… — a browser's subscription to its demo's channel.

Refusals happen before the handshake is accepted, which uvicorn answers with HTTP 403: an Origin outside
ALLOWED_ORIGINS (absent Origin = a non-browser client, allowed) or a token that is invalid, expired or bound
to another channel. Once accepted the connection's own task reads the client (without a reader a vanished
client would go unnoticed) and one more task drains the hub subscription to the socket; it ends when either
ends or the hub drops the subscription."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

import msgspec
from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, FromQuery, SkipValidation

from demo_relay.adapters.notifiers.relay import EventLog, HubRelay, StoredEvent
from demo_relay.adapters.notifiers.websocket_hub import Subscription, WebSocketHub
from demo_relay.config import Settings
from demo_relay.domain.errors import DomainError, InvalidToken
from demo_relay.domain.models import ChannelAccess
from demo_relay.domain.ports import ChannelTokens, ConversationDirectory
from demo_relay.domain.use_cases.sessions import authorize_channel
from demo_relay.entrypoints.http.limits import ConnectionLimits
from demo_relay.entrypoints.http.ws_direct import direct_writer

log = logging.getLogger(__name__)

CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_INVALID_TOKEN = 4401  # a bad token after accepting; the page then asks for a new session
CLOSE_ORIGIN_NOT_ALLOWED = 4403
# Closing sends a frame too; a client that stopped reading (the overflow case) could block it forever.
CLOSE_TIMEOUT_S = 2.0


class Ping(msgspec.Struct):
    """`{"type":"ping"}` → `{"event":"pong"}`: lets a page check the connection end to end."""

    type: Literal["ping"]


# Frames a client may send, told apart by their "type" literal as realtime-py's message.py tells its
# messages apart by `event`. msgspec only enforces a `tag_field` inside a union (a lone tagged Struct would
# decode `{}` as a Ping), so with one frame the literal field does it; when a second frame is added, make
# them `tag_field="type"` Structs and this a Union.
ClientFrame: TypeAlias = Ping
_client_frames = msgspec.json.Decoder(ClientFrame)
_encoder = msgspec.json.Encoder()
PONG_FRAME = '{"event":"pong"}'

_GONE = (WebSocketDisconnect, OSError)  # Litestar's / uvicorn's (ClientDisconnected) "client is gone"
Send = Callable[[str], Awaitable[None]]


@websocket("/ws/{channel:str}")
async def ws_handler(
    socket: WebSocket[Any, Any, Any],
    channel: FromPath[str],
    hub: NamedDependency[WebSocketHub],
    # Litestar validates dependencies with isinstance, which a (non-runtime-checkable) Protocol refuses.
    tokens: NamedDependency[SkipValidation[ChannelTokens]],
    settings: NamedDependency[Settings],
    connection_limits: NamedDependency[ConnectionLimits],
    conversations: NamedDependency[SkipValidation[ConversationDirectory]],
    event_log: NamedDependency[SkipValidation[EventLog | None]],
    hub_relay: NamedDependency[SkipValidation[HubRelay | None]],
    token: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
) -> None:
    origin = _origin(socket)
    if not origin_allowed(origin, settings.origins):
        log.info("websocket refused: origin %r not allowed", origin)
        await _refuse(socket, CLOSE_ORIGIN_NOT_ALLOWED, "origin not allowed")
        return
    try:
        access = authorize_channel(tokens, token or "", channel)
    except InvalidToken:
        log.info("websocket refused: invalid token for %s", channel)
        await _refuse(socket, CLOSE_INVALID_TOKEN, "invalid token")
        return
    if access.conversation_id is not None and await _ended(conversations, access.conversation_id):
        log.info("websocket refused: the conversation of this token has ended (%s)", channel)
        await _refuse(socket, CLOSE_INVALID_TOKEN, "the conversation has ended")
        return
    client = socket.client.host if socket.client else "-"
    admitted = connection_limits.admit(token or "", client)
    if admitted is None:
        log.info("websocket refused: too many connections for this token or address on %s", channel)
        await _refuse(socket, CLOSE_TRY_AGAIN_LATER, "too many connections")
        return
    try:
        await _serve(socket, hub, access, settings.ws_max_message_bytes, event_log, hub_relay, since)
    finally:
        connection_limits.release(admitted)


async def _ended(conversations: ConversationDirectory, conversation_id: str) -> bool:
    try:
        return await conversations.is_ended(conversation_id)
    except DomainError:  # the database is away: the hub itself needs none, so do not refuse for that
        log.warning("could not check whether conversation %s has ended", conversation_id)
        return False


def _origin(socket: WebSocket[Any, Any, Any]) -> str | None:
    """The Origin header, read from the ASGI scope: `socket.headers` would parse and keep a copy of every
    header for the life of the connection (about 1.7 KB per idle socket)."""
    for name, value in socket.scope["headers"]:
        if name == b"origin":
            return bytes(value).decode("latin-1")
    return None


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    """Browsers always send Origin on WebSocket handshakes, so checking it stops other sites' pages from
    using a visitor's connection (cross-site WebSocket hijacking). Non-browser clients send none."""
    if origin is None:
        return True
    wanted = origin.strip().rstrip("/").lower()
    return any(entry == "*" or entry.rstrip("/").lower() == wanted for entry in allowed)


async def _refuse(socket: WebSocket[Any, Any, Any], code: int, reason: str) -> None:
    """Closes before accepting: the server answers the handshake with 403 instead of upgrading."""
    try:
        if socket.connection_state == "init":
            await socket.receive()  # the websocket.connect event; ASGI servers expect it consumed first
        await socket.close(code=code, reason=reason)
    except _GONE:
        pass


async def _serve(
    socket: WebSocket[Any, Any, Any],
    hub: WebSocketHub,
    access: ChannelAccess,
    limit: int,
    event_log: EventLog | None,
    relay: HubRelay | None,
    since: str | None,
) -> None:
    # Subscribed before `subscribed` is sent: the current video is already queued and anything published
    # while the handshake completes waits in the queue, so nothing is lost or doubled. A viewer's token
    # follows its own conversation: another prospect's videos on the same demo never reach it. With the
    # Postgres or Redis hub, what the subscriber missed (`since`) or the current video comes from the shared
    # log, sent ahead of the live events; live ones it already got that way are skipped (by sequence up to
    # the head read before subscribing, by id after it).
    channel = access.channel
    head: int | None = None
    if event_log is not None:
        try:
            # The log's head first: live events up to it never reach this subscriber's queue (they are the
            # replay's, or older than its join), however far behind this instance's relay is.
            head = await event_log.head(channel)
        except Exception:  # the log away: live events only
            log.warning("could not read the event log's head for %s", channel)
    send_lock = asyncio.Lock()

    async def send(frame: str) -> None:
        # The drain task and pong replies share the socket; the lock keeps frames whole and in order.
        async with send_lock:
            await socket.send_text(frame)

    # This task reads the client. The hub writes frames straight to the transport where the server allows
    # it (ws_direct.py); elsewhere a `drain` task sends the queue. Whichever ends first (the client left or
    # broke a rule; the hub dropped the subscription; a send failed) ends the other: `drain` and the hub
    # wake this task by cancelling its wait on the client.
    handler = asyncio.current_task()
    drain: asyncio.Task[None] | None = None
    close: tuple[int, str] | None = None
    woken = False

    def wake(_: object = None) -> None:
        nonlocal woken
        if handler is not None and not woken:
            woken = True
            handler.cancel()

    subscription = hub.subscribe(
        channel, access.conversation_id, with_current=event_log is None, min_seq=head or 0
    )
    try:
        if event_log is not None:
            if relay is not None and head is not None:  # a lost relay connection catches this channel up
                relay.track(channel, head)
            await _catch_up(subscription, event_log, access, since)
        await socket.accept()
        await send(_encoder.encode({"event": "subscribed", "payload": {"channel": channel}}).decode())
        writer = direct_writer(socket.scope)
        if writer is None:
            drain = asyncio.create_task(_drain(subscription, send), name=f"ws-drain:{channel}")
            drain.add_done_callback(wake)
        else:
            writer.release_handshake()
            # The replay goes through uvicorn's flow control (it may be long); what arrived live meanwhile
            # is queued, then the hub writes to the transport from here on: no drain task at all.
            for frame in subscription.take_replay():
                await send(frame)
            if not subscription.go_direct(writer):
                close = CLOSE_TRY_AGAIN_LATER, "subscriber too slow"
        if close is None:
            close = await _serve_until_done(socket, limit, send, subscription, drain, wake, lambda: woken)
    except _GONE:
        pass  # the client left during the handshake, or while we answered it
    finally:
        subscription.on_close = None
        subscription.writer = None  # nothing more is written behind uvicorn's back (the close comes next)
        woken = True  # from here on, nothing may cancel this task
        if drain is not None:
            drain.remove_done_callback(wake)
            drain.cancel()
            outcome = (await asyncio.gather(drain, return_exceptions=True))[0]
            if isinstance(outcome, Exception) and not isinstance(outcome, _GONE):
                log.error("websocket task failed on %s", channel, exc_info=outcome)
        hub.unsubscribe(subscription)
    if close is not None:
        await _close_quietly(socket, *close)


async def _catch_up(
    subscription: Subscription, event_log: EventLog, access: ChannelAccess, since: str | None
) -> None:
    """What the subscriber missed (`since`), or the current video, from the shared log, ahead of the live
    events; live events it already gets this way are skipped (up to the replay's last sequence number, and
    by id for those queued before it)."""
    missed: list[StoredEvent]
    try:
        missed = await event_log.catch_up(access.channel, access.conversation_id, since, datetime.now(UTC))
    except Exception:  # the log away, or a `since` it cannot read: live events only, never a leak
        log.warning("could not read the event log for %s; serving live events only", access.channel)
        missed = []
    subscription.prepend(
        [stored.frame for stored in missed],
        {stored.event_id for stored in missed},
        up_to_seq=max((stored.seq for stored in missed), default=0),
    )


async def _serve_until_done(
    socket: WebSocket[Any, Any, Any],
    limit: int,
    send: Send,
    subscription: Subscription,
    drain: asyncio.Task[None] | None,
    wake: Callable[[], None],
    woken: Callable[[], bool],
) -> tuple[int, str] | None:
    """Reads the client until it leaves or breaks a rule, or until `wake` (the hub dropped the
    subscription, the drain ended) cancels the wait; how to close then."""
    if subscription.closed:  # dropped already (the hub was shutting down): no wait to cancel
        return _close_for(subscription, drain)
    subscription.on_close = wake
    try:
        return await _receive(socket, limit, send)
    except asyncio.CancelledError:
        handler = asyncio.current_task()
        if not woken() or handler is None or handler.uncancel() > 0:
            raise  # cancelled from outside (the server stopping), too: not ours to swallow
        return _close_for(subscription, drain)


async def _drain(subscription: Subscription, send: Send) -> None:
    while True:
        frame = await subscription.next_frame()
        if subscription.closed:  # dropped by the hub: the connection is about to be closed instead
            return
        await send(frame)


async def _receive(socket: WebSocket[Any, Any, Any], limit: int, send: Send) -> tuple[int, str] | None:
    """Reads client frames until the client leaves (None) or breaks a rule (how to close)."""
    while True:
        try:
            message = await socket.receive()
        except WebSocketDisconnect:
            return None
        if message["type"] != "websocket.receive":
            return None  # websocket.disconnect
        text = message.get("text")
        data = text.encode() if text is not None else (message.get("bytes") or b"")
        if len(data) > limit:
            return CLOSE_MESSAGE_TOO_BIG, f"messages are limited to {limit} bytes"
        try:
            frame = _client_frames.decode(data)
        except msgspec.DecodeError:  # also ValidationError: unknown "type" or wrong shape
            continue  # malformed or unknown frames are ignored, never fatal
        if isinstance(frame, Ping):
            await send(PONG_FRAME)


def _close_for(subscription: Subscription, drain: asyncio.Task[None] | None) -> tuple[int, str] | None:
    """How to close once the hub dropped the subscription or the drain ended; None when the client is
    already gone."""
    if subscription.close_code is not None:  # dropped by the hub (1013 overflow, 1001 shutdown)
        return subscription.close_code, subscription.close_reason
    error = drain.exception() if drain is not None and drain.done() and not drain.cancelled() else None
    if error is not None and not isinstance(error, _GONE):
        return CLOSE_INTERNAL_ERROR, "internal error"  # a bug (logged by the caller); the page will retry
    return None


async def _close_quietly(socket: WebSocket[Any, Any, Any], code: int, reason: str) -> None:
    try:
        await asyncio.wait_for(socket.close(code=code, reason=reason), CLOSE_TIMEOUT_S)
    except (*_GONE, TimeoutError):
        pass  # the client is gone or not reading; returning lets the server drop the connection
