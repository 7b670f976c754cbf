"""What happens to every Tavus API request (/v2...) before a handler runs: it is recorded, the first matching
injected fault is applied, then the `x-api-key` header is checked (401 `{"message": "Invalid access
token"}`, Tavus's documented answer). Faults come first: they stand for the network or Tavus's edge failing,
which happens whatever the key."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from litestar.types import Scope, Send

from fake_tavus.fake import FakeTavus
from fake_tavus.faults import Fault


def is_api_path(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(raw)).encode()),
        (b"access-control-allow-origin", b"*"),  # a browser may read the refusal too
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw, "more_body": False})


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


async def _apply(fault: Fault, send: Send) -> bool:
    """Apply `fault`; True when it answered the request (the app must not run)."""
    if fault.delay_s:
        await asyncio.sleep(fault.delay_s)
    if fault.down:
        await _drop_connection(send)
        return True
    if fault.status is not None:
        await _answer(send, fault.status, {"message": "Injected fault"})
        return True
    return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def intercept(fake: FakeTavus, scope: Scope, send: Send) -> bool:
    """True when the request was answered (or dropped) here. Must see the server's own `send` (Litestar's
    exception middleware wraps it), so the app calls it before Litestar's stack, see `FakeTavusApp`."""
    path = str(scope["path"])
    if not is_api_path(path):
        return False
    method = str(scope.get("method", "GET"))
    fake.requests.append(
        {"method": method, "path": path, "query": bytes(scope.get("query_string", b"")).decode()}
    )
    fault = fake.faults.take(path, method)
    if fault is not None and await _apply(fault, send):
        return True
    if method == "OPTIONS":
        return False  # a CORS preflight carries no key; Litestar's CORS middleware answers it
    key = _header(scope, b"x-api-key")
    if key is None or not hmac.compare_digest(key.encode(), fake.api_key.encode()):
        await _answer(send, 401, {"message": "Invalid access token"})
        return True
    return False
