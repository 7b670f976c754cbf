"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

from demo_relay.adapters.notifiers.websocket_hub import WebSocketHub
from demo_relay.adapters.postgres.database import Database


@get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", summary="Database reachable, migrations applied, not shutting down")
async def readyz(database: NamedDependency[Database], hub: NamedDependency[WebSocketHub]) -> Response[Any]:
    # Draining (SIGTERM): a load balancer must stop sending here while in-flight requests finish.
    problem = "shutting down" if hub.closed else await database.readiness()
    if problem is None:
        return Response({"status": "ready"})
    return Response({"status": "not_ready", "reason": problem}, status_code=503, headers={"Retry-After": "2"})
