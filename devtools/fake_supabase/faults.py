"""Fault injection: make a service answer an error status, answer late, or drop the connection, `times` times.

Services: `storage` (everything under /storage/v1), `realtime_rest` (/realtime/v1/api/...), `realtime_ws`
(the WebSocket handshake at /realtime/v1/websocket). A fault may be limited to paths containing `match`
and to one HTTP `method`.
`down` on HTTP aborts the TCP connection before any byte of a response (under uvicorn; elsewhere the response
is cut after its headers); on the WebSocket it refuses the handshake."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Service = Literal["storage", "realtime_rest", "realtime_ws", "auth"]
SERVICES: tuple[Service, ...] = ("storage", "realtime_rest", "realtime_ws")

_ids = itertools.count(1)


@dataclass
class Fault:
    service: Service
    status: int | None = None
    delay_s: float = 0.0
    down: bool = False
    times: int | None = 1  # None: until cleared
    match: str | None = None
    method: str | None = None  # e.g. POST; None: any
    id: int = field(default_factory=lambda: next(_ids))
    triggered: int = 0

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"unknown service {self.service!r}; expected one of {', '.join(SERVICES)}")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if self.delay_s < 0:
            raise ValueError("delay_s must not be negative")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or null for until cleared)")
        if self.status is None and not self.down and self.delay_s == 0:
            raise ValueError("a fault needs status, down or delay_s")

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else self.times - self.triggered

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "remaining": self.remaining}


class FaultBook:
    """Active faults, oldest first; `take` consumes one use of the first that applies."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def take(self, service: Service, path: str, method: str = "GET") -> Fault | None:
        for fault in self._faults:
            if (
                fault.service == service
                and (fault.match is None or fault.match in path)
                and (fault.method is None or fault.method.upper() == method.upper())
            ):
                fault.triggered += 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self, service: Service | None = None) -> None:
        self._faults = [f for f in self._faults if service is not None and f.service != service]

    def active(self) -> list[Fault]:
        return list(self._faults)


def service_for_path(path: str) -> Service | None:
    if path.startswith("/storage/v1/"):
        return "storage"
    if path.startswith("/realtime/v1/api/"):
        return "realtime_rest"
    if path.startswith("/realtime/v1/websocket"):
        return "realtime_ws"
    if path.startswith("/auth/v1/"):
        return "auth"
    return None
