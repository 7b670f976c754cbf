"""Hub frames written straight onto a WebSocket's transport: no task, no queue, no ASGI send per delivery.

Through ASGI, each delivery is a task waking up, a lock, five coroutine layers (ours, Litestar's, uvicorn's)
and the frame serialised again for every socket: ~40 µs of CPU per delivery, and a task per idle socket. A
text frame from a server is a fixed 2-10 byte header and the UTF-8 payload (RFC 6455 §5.2: no mask, no
extension once none was negotiated), the same bytes for every subscriber: the hub encodes it once per event
and writes it to each subscriber's transport in the call (bench/sockets.py shows the difference).

Only where that is exactly what uvicorn would have sent: uvicorn's websockets-sansio protocol, with no
extension negotiated (`serve` turns permessage-deflate off), the connection open and no close frame sent.
Anything else (another server, another protocol implementation, tests that build their own app) keeps the
ASGI path. uvicorn's own writes (the handshake, pings, pongs, the close) happen in the same event loop,
each in one `transport.write`, so frames never interleave. A client whose unsent bytes pass
`max_buffered_bytes` is too far behind: the hub drops it (1013), as it drops a full queue."""

from __future__ import annotations

from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

PROTOCOL_KEY = "demo_relay.ws_protocol"
DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024
_TEXT = 0x81  # FIN + opcode 1 (text)


def text_frame(frame: str) -> bytes:
    """An unmasked, unfragmented text frame (what a server sends)."""
    payload = frame.encode()
    size = len(payload)
    if size < 126:
        return bytes((_TEXT, size)) + payload
    if size < 1 << 16:
        return bytes((_TEXT, 126)) + size.to_bytes(2, "big") + payload
    return bytes((_TEXT, 127)) + size.to_bytes(8, "big") + payload


def expose_websocket_protocol(app: ASGIApp) -> ASGIApp:
    """Outermost ASGI wrapper: a WebSocket scope carries the server's protocol object (uvicorn hands the
    app its bound `send`), for `direct_writer`. Nothing else reads it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.WEBSOCKET:
            protocol = getattr(send, "__self__", None)
            if protocol is not None:
                scope[PROTOCOL_KEY] = protocol  # type: ignore[literal-required]
        await app(scope, receive, send)

    return middleware


class TransportWriter:
    """The hub's FrameWriter for one accepted connection."""

    __slots__ = ("_max_buffered", "_protocol", "_transport")

    def __init__(self, protocol: Any, transport: Any, max_buffered_bytes: int) -> None:
        self._protocol = protocol
        self._transport = transport
        self._max_buffered = max_buffered_bytes

    def encode(self, frame: str) -> bytes:
        return text_frame(frame)

    def release_handshake(self) -> None:
        """uvicorn keeps the handshake's request and response (every header, parsed twice) for the life of
        the connection, though nothing reads them once the connection is accepted: ~3 KB per idle socket."""
        self._protocol.request = None
        self._protocol.response = None

    def write(self, wire: bytes) -> bool:
        protocol, transport = self._protocol, self._transport
        if protocol.close_sent or transport.is_closing() or protocol.conn.state is not _OPEN:
            return True  # closing: the connection's own task is about to notice; nothing more goes out
        if transport.get_write_buffer_size() > self._max_buffered:
            return False
        transport.write(wire)
        return True


def direct_writer(
    scope: Scope, max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES
) -> TransportWriter | None:
    """A writer for this accepted connection, or None where frames must go through ASGI."""
    protocol: Any = scope.get(PROTOCOL_KEY)
    if protocol is None or _SANSIO is None or type(protocol) is not _SANSIO:
        return None
    conn = getattr(protocol, "conn", None)
    transport = getattr(protocol, "transport", None)
    if conn is None or transport is None or conn.extensions or conn.state is not _OPEN or protocol.close_sent:
        return None
    return TransportWriter(protocol, transport, max_buffered_bytes)


def _sansio_protocol() -> type[Any] | None:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # another uvicorn, or no websockets: the ASGI path
        return None
    return WebSocketsSansIOProtocol


_SANSIO = _sansio_protocol()
try:
    from websockets.protocol import State

    _OPEN: Any = State.OPEN
except ImportError:  # pragma: no cover (websockets is a product dependency)
    _OPEN = object()
