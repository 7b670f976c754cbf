"""What the fake saw, for assertions: requests per service, sign calls and downloads per object, broadcasts
received, WebSocket connections, joins and heartbeats."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeStats:
    requests: Counter[str] = field(default_factory=Counter)  # per service, faulted ones included
    faults_triggered: Counter[str] = field(default_factory=Counter)
    sign_calls: Counter[str] = field(default_factory=Counter)  # "bucket/path" -> POST /object/sign calls
    downloads: Counter[str] = field(default_factory=Counter)  # "bucket/path" -> GET bodies served
    uploads: Counter[str] = field(default_factory=Counter)
    broadcasts: list[dict[str, Any]] = field(default_factory=list)  # accepted REST messages, in order
    client_broadcasts: list[dict[str, Any]] = field(default_factory=list)  # broadcasts pushed over WebSockets
    ws_connections: int = 0  # handshakes accepted
    ws_rejected: int = 0
    joins: list[dict[str, Any]] = field(default_factory=list)  # every phx_join with its outcome
    heartbeats: int = 0

    @property
    def sign_total(self) -> int:
        return sum(self.sign_calls.values())

    def joined(self, topic: str) -> int:
        """Successful joins of `topic` (with or without the `realtime:` prefix)."""
        full = topic if topic.startswith("realtime:") else f"realtime:{topic}"
        return sum(1 for j in self.joins if j["topic"] == full and j["status"] == "ok")

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "faults_triggered": dict(self.faults_triggered),
            "sign_calls": dict(self.sign_calls),
            "sign_total": self.sign_total,
            "downloads": dict(self.downloads),
            "uploads": dict(self.uploads),
            "broadcasts": list(self.broadcasts),
            "client_broadcasts": list(self.client_broadcasts),
            "ws_connections": self.ws_connections,
            "ws_rejected": self.ws_rejected,
            "joins": list(self.joins),
            "heartbeats": self.heartbeats,
        }
