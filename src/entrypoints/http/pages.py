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
from litestar import MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

DIST_ENV = "FRONTEND_DIST"
DEFAULT_DIST = Path(str(resources.files("demo_relay.entrypoints.http") / "page"))
INDEX_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"
NOT_BUILT_PAGE = Path(__file__).with_name("index.html")
NOT_BUILT_MESSAGE = "the page is not built: run `make run`, which builds it (npm run build in frontend/)"


def frontend_dist() -> Path:
    configured = os.environ.get(DIST_ENV, "").strip()
    return Path(configured) if configured else DEFAULT_DIST


async def _spa_index(request: Request[Any, Any, Any]) -> Response[Any]:
    try:
        body = await anyio.Path(frontend_dist() / "index.html").read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return await _not_built(request)
    return Response(body, media_type=MediaType.HTML, headers={"Cache-Control": INDEX_CACHE})


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


@get("/", include_in_schema=False)
async def index_page(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _spa_index(request)


@get("/demos/{demo_id:str}", include_in_schema=False)
async def demo_page(request: Request[Any, Any, Any], demo_id: FromPath[str]) -> Response[Any]:
    del demo_id  # routed on the client; an unknown demo is the page's to explain
    return await _spa_index(request)


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
