"""Fault injection for the Tavus API (/v2 only): answer an error status, answer late, or drop the connection,
`times` times. A fault may be limited to paths containing `match` and to one HTTP `method`; the control
endpoints (/__fake) are never affected, so a test can always clear what it injected.
`down` aborts the TCP connection before any byte of a response (under uvicorn; elsewhere the response is cut
after its headers): what a client sees when Tavus is unreachable mid-request."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

_ids = itertools.count(1)


@dataclass
class Fault:
    status: int | None = None
    delay_s: float = 0.0
    down: bool = False
    times: int | None = 1  # None: until cleared
    match: str | None = None
    method: str | None = None  # e.g. POST; None: any
    id: int = field(default_factory=lambda: next(_ids))
    triggered: int = 0

    def __post_init__(self) -> None:
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

    def take(self, path: str, method: str = "GET") -> Fault | None:
        for fault in self._faults:
            if (fault.match is None or fault.match in path) and (
                fault.method is None or fault.method.upper() == method.upper()
            ):
                fault.triggered += 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults = []

    def active(self) -> list[Fault]:
        return list(self._faults)
