"""The browser page: the Vite build of `frontend/` (React), served by this app.

`/` (the demo list) and `/demos/{demo_id}` (DemoConfigurationPage) both answer the build's `index.html`: the
page routes on the client. `index.html` is revalidated on every load (`no-cache`) so a new build shows at
once; the files under `/assets/` have content hashes in their names, so browsers may keep them for a year.

Where the build lives: `page/` beside this module (Vite builds `frontend/` into it, and the wheel carries
it), or `FRONTEND_DIST`. It is looked up per request, not at import, so a build made while the server runs
is picked up and tests can point elsewhere. Without a build the page answers 503 with a short note saying
to run `make run` (which builds it); the API keeps working."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from litestar import MediaType, Request, Response, get, route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File

from demo_relay.config import Settings

DIST_ENV = "FRONTEND_DIST"
DEFAULT_DIST = Path(str(resources.files("demo_relay.entrypoints.http") / "page"))
INDEX_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"
NOT_BUILT_PAGE = Path(__file__).with_name("index.html")
NOT_BUILT_MESSAGE = "the page is not built: run `make run`, which builds it (npm run build in frontend/)"


def frontend_dist() -> Path:
    configured = os.environ.get(DIST_ENV, "").strip()
    return Path(configured) if configured else DEFAULT_DIST


def openapi_viewer() -> SwaggerRenderPlugin | None:
    """Swagger UI for /schema from the page's own build (assets/openapi-<version>/), never from a CDN; None
    when the page is not built (the JSON document at /schema/openapi.json is served regardless)."""
    found = sorted((frontend_dist() / "assets").glob("openapi-*/swagger-ui-bundle.js"))
    if not found:
        return None
    folder = f"/assets/{found[-1].parent.name}"
    return SwaggerRenderPlugin(
        js_url=f"{folder}/swagger-ui-bundle.js",
        css_url=f"{folder}/swagger-ui.css",
        standalone_preset_js_url=f"{folder}/swagger-ui-standalone-preset.js",
        path="/",
    )


def security_headers(settings: Settings) -> dict[str, str]:
    """What the page may load and who may frame it. Scripts and styles come from this origin (daily-js may
    add its call bundle from c.daily.co); the conversation is a Daily room (frame-src); videos come from
    this origin or Supabase Storage; the page talks to this origin, its WebSocket, Supabase and Daily.
    Nobody may frame the page itself (it embeds a camera-enabled call), and no URL leaks as a Referer."""
    supabase = (settings.supabase_url or "").rstrip("/")
    supabase_ws = supabase.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    connect = ["'self'", settings.websocket_base_url, "https://*.daily.co", "wss://*.daily.co"]
    media = ["'self'", "blob:"]
    if supabase:
        connect += [supabase, supabase_ws]
        media.append(supabase)
    policy = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "https://c.daily.co"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": media,
        "connect-src": connect,
        "frame-src": ["https://*.daily.co"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return {
        "Content-Security-Policy": "; ".join(f"{k} {' '.join(v)}" for k, v in policy.items()),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


async def _spa_index(request: Request[Any, Any, Any], settings: Settings) -> Response[Any]:
    try:
        body = await anyio.Path(frontend_dist() / "index.html").read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return await _not_built(request)
    headers = {"Cache-Control": INDEX_CACHE, **security_headers(settings)}
    if request.method == "HEAD":
        return Response(b"", media_type=MediaType.HTML, headers={**headers, "Content-Length": str(len(body))})
    return Response(body, media_type=MediaType.HTML, headers=headers)


async def _not_built(request: Request[Any, Any, Any]) -> Response[Any]:
    headers = {"Cache-Control": "no-store", "Retry-After": "30"}
    if "text/html" in request.headers.get("accept", ""):
        page = await anyio.Path(NOT_BUILT_PAGE).read_bytes()
        return Response(page, status_code=503, media_type=MediaType.HTML, headers=headers)
    return Response(
        {"error": "frontend_not_built", "message": NOT_BUILT_MESSAGE},
        status_code=503,
        media_type=MediaType.JSON,
        headers=headers,
    )


@route("/", http_method=[HttpMethod.GET, HttpMethod.HEAD], include_in_schema=False)
async def index_page(request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Response[Any]:
    return await _spa_index(request, settings)


@route("/demos/{demo_id:str}", http_method=[HttpMethod.GET, HttpMethod.HEAD], include_in_schema=False)
async def demo_page(
    request: Request[Any, Any, Any], demo_id: FromPath[str], settings: NamedDependency[Settings]
) -> Response[Any]:
    del demo_id  # routed on the client; an unknown demo is the page's to explain
    return await _spa_index(request, settings)


@get("/assets/{asset_path:path}", include_in_schema=False)
async def asset(asset_path: FromPath[Path]) -> File:
    root = (frontend_dist() / "assets").resolve()
    target = (root / str(asset_path).lstrip("/")).resolve()
    # resolve() collapses `..` and symlinks: anything outside the assets folder is not ours to serve.
    if not target.is_relative_to(root) or not await anyio.Path(target).is_file():
        raise NotFoundException("no such asset")
    # The filename gives the media type: module scripts served as anything but JavaScript do not run.
    return File(
        target,
        filename=target.name,
        content_disposition_type="inline",
        headers={"Cache-Control": ASSET_CACHE},
    )


page_handlers = [index_page, demo_page, asset]
