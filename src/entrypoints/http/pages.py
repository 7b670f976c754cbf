"""The page. Until the React DemoConfigurationPage lands, `/` is a small static page listing the demos."""

from __future__ import annotations

from pathlib import Path

from litestar import MediaType, get

_INDEX = Path(__file__).with_name("index.html")


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def index() -> str:
    return _INDEX.read_text()


page_handlers = [index]
