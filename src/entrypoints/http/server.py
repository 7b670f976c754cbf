"""uvicorn's HTTP/1.1 protocol with deadlines on what the client sends. uvicorn closes a keep-alive
connection that stays idle between requests, but never one that is silent from the start, sends its head
a byte at a time, or stops in the middle of its body: a few hundred of those exhaust the process's file
descriptors (slowloris). Here:
- every request head (the first, and each one after a keep-alive response) must arrive complete within
  `timeout_s` of its first chance to start, as nginx's client_header_timeout asks;
- a request body may not pause for longer than `timeout_s` between two reads (nginx's client_body_timeout):
  an idle deadline, so a large upload that keeps moving is never cut, and never while the server itself
  has paused reading (flow control: the app is slower than the client);
- a connection that upgraded to a WebSocket is no longer ours to time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from demo_relay.config import Settings

DEFAULT_TIMEOUT_S = 10.0
SHUTDOWN_GRACE_S = (
    8  # SIGTERM → exit within 10 s: sockets closed with 1001 at once, in-flight webhooks get 8 s
)


class Deadlines:
    """The deadlines, for either of uvicorn's HTTP/1.1 protocols (mixed in before it): h11 (pure Python) or
    httptools (llhttp, C; several times cheaper per request, the one `serve` uses when it is installed)."""

    timeout_s = DEFAULT_TIMEOUT_S
    # What the protocol classes provide (uvicorn's H11Protocol / HttpToolsProtocol):
    cycle: Any
    flow: Any
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def data_received(self, data: bytes) -> None:
        receiving_body = self._receiving_body()
        super().data_received(data)  # type: ignore[misc]
        if not self._still_ours():
            self._disarm()  # upgraded to a WebSocket: no longer ours to time
            return
        if self._head_pending():
            return  # the head's deadline runs on, whatever arrives byte by byte
        if self._receiving_body():
            if receiving_body or self._deadline is None:
                self._arm()  # the body moved (or just started): its idle deadline starts again
        else:
            self._disarm()  # the request is complete: it is the app's to time now

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._arm()  # the next head on this keep-alive connection has its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _still_ours(self) -> bool:
        """False once the connection upgraded to a WebSocket (the transport has another protocol)."""
        protocol: object = self.transport.get_protocol()
        return protocol is self

    def _head_pending(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _receiving_body(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete and self.cycle.more_body

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self._still_ours() or self.transport.is_closing():
            return  # upgraded to a WebSocket, or already on its way out
        if self._receiving_body() and self.flow.read_paused:
            self._arm()  # we stopped reading, not the client
            return
        if self._head_pending() or self._receiving_body():
            self.transport.close()


class BoundedH11Protocol(Deadlines, H11Protocol):
    pass


def _base_protocol() -> type[Any]:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is a product dependency; h11 stays the fallback
        return BoundedH11Protocol

    class BoundedHttpToolsProtocol(Deadlines, HttpToolsProtocol):
        pass

    return BoundedHttpToolsProtocol


def protocol_with_timeout(timeout_s: float, parser: str = "auto") -> type[Any]:
    """The protocol class uvicorn should use, bound to this deadline: httptools when installed ("auto"),
    or h11 ("h11")."""
    base = BoundedH11Protocol if parser == "h11" else _base_protocol()
    return type(f"Timed{base.__name__}", (base,), {"timeout_s": float(timeout_s)})


class GracefulServer(uvicorn.Server):
    """uvicorn, with our own first step on SIGTERM/SIGINT: `drain` closes every WebSocket with 1001 (going
    away: the page reconnects, to another instance, with `since`), where uvicorn would send 1012; readiness
    turns 503 so a load balancer stops sending here. `drain_s` later uvicorn's own shutdown begins: no new
    connections, in-flight requests (webhooks) finish within `timeout_graceful_shutdown`, then the lifespan
    closes the pools."""

    def __init__(self, config: uvicorn.Config, drain: Callable[[], None], drain_s: float = 0.5) -> None:
        super().__init__(config)
        self._drain = drain
        self._drain_s = drain_s
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining:
            super().handle_exit(sig, frame)  # a second signal: uvicorn's own (SIGINT twice forces)
            return
        self._draining = True
        self._drain()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not inside the server's loop (never in practice): shut down at once
            super().handle_exit(sig, frame)
            return
        loop.call_later(self._drain_s, super().handle_exit, sig, frame)


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """How `serve` runs the app (the benchmarks' bare baseline runs on this same configuration)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws_max_size=settings.ws_max_message_bytes,
        http=protocol_with_timeout(settings.http_header_timeout_s),
        loop="uvloop" if _has("uvloop") else "asyncio",
        timeout_keep_alive=5,  # an idle keep-alive connection is closed after this
        ws_ping_interval=20,
        ws_ping_timeout=20,
        # Frames are a few hundred bytes of JSON: compressing them saves little and costs CPU per delivery
        # and a zlib context (hundreds of KB) per socket.
        ws_per_message_deflate=False,
        # The sans-I/O protocol, named (not "auto"): the hub writes frames straight to its transport
        # (ws_direct.py checks for exactly this class).
        ws="websockets-sansio",
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        access_log=False,  # ours (access_log.py) leaves query strings, which carry secrets, out
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
