"""uvicorn's HTTP/1.1 protocol with a deadline on the request head. uvicorn closes a keep-alive connection
that stays idle between requests, but never one that is silent from the start or sends its head a byte at
a time: a few hundred of those exhaust the process's file descriptors (slowloris). Here every request head
(the first, and each one after a keep-alive response) must arrive complete within `header_timeout_s`, as
nginx's client_header_timeout asks; a connection that upgraded to a WebSocket is no longer ours to time."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEADER_TIMEOUT_S = 10.0


class BoundedH11Protocol(H11Protocol):
    header_timeout_s = DEFAULT_HEADER_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self._head_pending():
            return
        self._disarm()  # a complete head arrived: the request is the app's to time now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next head on this keep-alive connection has its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _head_pending(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if self.transport.get_protocol() is not self:  # upgraded to a WebSocket
            return
        if self._head_pending() and not self.transport.is_closing():
            self.transport.close()


def protocol_with_header_timeout(timeout_s: float) -> type[BoundedH11Protocol]:
    """The protocol class uvicorn should use, bound to this deadline."""
    return type("HeaderTimedH11Protocol", (BoundedH11Protocol,), {"header_timeout_s": float(timeout_s)})
