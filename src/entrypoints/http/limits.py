"""Abuse bounds of the endpoints browsers call: request rates on sessions and the bridge (429 with
Retry-After), and WebSocket connections at once per session token and per client address. All per
instance, in memory: enough to keep one abusive client from exhausting a process."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address


def per_minute(name: str, limit: int) -> RateLimitConfig:
    """A per-client-address limit of its own (each name counts apart from the others)."""

    def identify(request: Request[Any, Any, Any]) -> str:
        return f"{name}:{get_remote_address(request)}"

    return RateLimitConfig(rate_limit=("minute", limit), identifier_for_request=identify)


@dataclass
class ConnectionLimits:
    per_token: int
    per_client: int
    _tokens: Counter[str] = field(default_factory=Counter)
    _clients: Counter[str] = field(default_factory=Counter)

    def admit(self, token: str, client: str) -> tuple[str, str] | None:
        """The connection's keys when both counts allow one more (release them when it ends), else None."""
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:32]  # no token kept
        if self._tokens[key] >= self.per_token or self._clients[client] >= self.per_client:
            return None
        self._tokens[key] += 1
        self._clients[client] += 1
        return key, client

    def release(self, admitted: tuple[str, str]) -> None:
        key, client = admitted
        for counter, name in ((self._tokens, key), (self._clients, client)):
            counter[name] -= 1
            if counter[name] <= 0:
                del counter[name]
