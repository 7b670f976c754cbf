"""Small helpers shared by the handlers: reading a JSON body the way Tavus would (an unparsable body is a
400, never a 500), error answers in Tavus's two shapes (`{"error": ...}` and `{"message": ...}`), and
`limit`/`page` pagination that accepts both 0 and 1 as the first page (callers of the real API use both)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from litestar import Request, Response

T = TypeVar("T")


class Invalid(ValueError):
    """A request Tavus would refuse; `str()` is the message of the answer."""


async def read_json(request: Request[Any, Any, Any], *, empty: Any = None) -> Any:
    raw = await request.body()
    if not raw.strip():
        return empty
    try:
        return json.loads(raw)
    except ValueError:
        raise Invalid("Invalid JSON body") from None


def error(status: int, message: str, key: str = "error") -> Response[Any]:
    return Response(content={key: message}, status_code=status)


def ok(content: Any, status: int = 200) -> Response[Any]:
    return Response(content=content, status_code=status)


def empty(status: int) -> Response[Any]:
    """204 / 304 / an empty 200 (what Tavus answers to `end`)."""
    return Response(content=b"" if status == 200 else None, status_code=status)


def int_param(
    request: Request[Any, Any, Any], name: str, default: int, *, low: int = 0, high: int = 1000
) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise Invalid(f"{name} must be between {low} and {high}")
    return value


def page_of(request: Request[Any, Any, Any], rows: Sequence[T], *, default_limit: int) -> list[T]:
    """`?limit=&page=`: pages are 1-based, and 0 is the first page too."""
    limit = int_param(request, "limit", default_limit, low=1)
    page = max(1, int_param(request, "page", 1, high=1_000_000))
    start = (page - 1) * limit
    return list(rows[start : start + limit])
