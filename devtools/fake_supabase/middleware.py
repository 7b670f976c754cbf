"""Counts HTTP requests per service and applies injected faults before any handler runs."""

from __future__ import annotations

import asyncio
import json

from litestar.enums import ScopeType
from litestar.types import Scope, Send

from fake_supabase.fake import FakeSupabase
from fake_supabase.faults import Fault, Service, service_for_path


def _fault_body(service: Service, status: int) -> bytes:
    if service == "storage":
        body: object = {
            "statusCode": str(status),
            "code": "InternalError",
            "error": "internal",
            "message": "Injected fault",
        }
    else:
        body = {"message": "Injected fault"}
    return json.dumps(body).encode()


async def _drop_connection(send: Send) -> None:
    """Close the TCP connection without answering. Under uvicorn the ASGI `send` is bound to the request
    cycle, whose transport we abort; elsewhere we cut the response after its headers."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if callable(abort):
        abort()
        await asyncio.sleep(0.01)  # let connection_lost run, so the server does not try to answer 500
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})


async def _apply(fault: Fault, service: Service, send: Send) -> bool:
    """Apply `fault`; True when it answered the request (the app must not run)."""
    if fault.delay_s:
        await asyncio.sleep(fault.delay_s)
    if fault.down:
        await _drop_connection(send)
        return True
    if fault.status is not None:
        body = _fault_body(service, fault.status)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return True
    return False


async def intercept(fake: FakeSupabase, scope: Scope, send: Send) -> bool:
    """Count an HTTP request and apply the first matching fault; True when the request was answered (or
    dropped) here. Must see the server's own `send` (Litestar's exception middleware wraps it), so the app
    calls it before Litestar's stack, see `FakeSupabaseApp`."""
    service = service_for_path(scope["path"]) if scope["type"] == ScopeType.HTTP else None
    if service is None:
        return False
    fake.stats.requests[service] += 1
    fault = fake.faults.take(service, scope["path"], str(scope.get("method", "GET")))
    if fault is None:
        return False
    fake.stats.faults_triggered[service] += 1
    return await _apply(fault, service, send)
