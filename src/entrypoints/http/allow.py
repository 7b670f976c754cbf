"""OPTIONS answers whose `Allow` lists every method of the path (RFC 9110 §9.3.7).

Litestar 2.25 creates a path's automatic OPTIONS handler when the path's first handler is registered, and
that handler keeps answering with the methods known then: `/api/demos` (GET, then POST) answered
`Allow: GET, OPTIONS`. An explicit OPTIONS handler per path, registered before the others, replaces the
automatic one and reads the path's methods from the app when asked. (CORS preflights never get here:
Litestar's CORS middleware answers them.)"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request, Response, route
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_204_NO_CONTENT


def options_handlers(handlers: Iterable[Any]) -> list[HTTPRouteHandler]:
    paths = sorted({path for h in handlers if isinstance(h, HTTPRouteHandler) for path in h.paths})
    return [_options_for(path) for path in paths]


def _options_for(path: str) -> HTTPRouteHandler:
    async def options(request: Request[Any, Any, Any]) -> Response[None]:
        methods = set(request.app.route_handler_method_map.get(path, {})) | {"OPTIONS"}
        allowed = ", ".join(sorted(m for m in methods if m.isupper()))
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allowed})

    return route(path, http_method=["OPTIONS"], include_in_schema=False, name=f"options:{path}")(options)
