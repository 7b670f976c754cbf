"""The page routes through the real app: the built page with its security headers (a CSP that frames only
Daily rooms and lets nobody frame the page, nosniff, no Referer), HEAD answered like GET without a body,
assets by their real type and never outside the build, and a clear 503 when the page is not built.
The browser suite (frontend/e2e) runs the page under the same CSP over both transports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from demo_relay.entrypoints.http.pages import DEFAULT_DIST
from tests.support.app import SeededApp, make_settings


@pytest.fixture
async def client(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = replace(make_settings(tmp_path, database_url), supabase_url="https://proj.supabase.co")
    async with AsyncTestClient(SeededApp(settings, database_url).app) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/", "/demos/6f1c0d4e-0000-4000-8000-000000000000"])
async def test_the_page_carries_its_security_headers(client: AsyncTestClient[Any], path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert policy["frame-ancestors"] == "'none'"
    assert policy["frame-src"] == "https://*.daily.co"
    assert policy["object-src"] == "'none'"
    assert "'unsafe-eval'" not in policy["script-src"] and "'unsafe-inline'" not in policy["script-src"]
    assert (
        "https://proj.supabase.co" in policy["connect-src"]
        and "wss://proj.supabase.co" in policy["connect-src"]
    )
    assert "https://proj.supabase.co" in policy["media-src"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/demos/any"])
async def test_head_answers_like_get_without_a_body(client: AsyncTestClient[Any], path: str) -> None:
    got, headed = await client.get(path), await client.head(path)
    assert headed.status_code == 200 and headed.content == b""
    assert headed.headers["content-length"] == str(len(got.content))
    assert headed.headers["content-security-policy"] == got.headers["content-security-policy"]


async def test_assets_are_served_by_type_and_never_outside_the_build(client: AsyncTestClient[Any]) -> None:
    script = next((DEFAULT_DIST / "assets").glob("*.js")).name
    asset = await client.get(f"/assets/{script}")
    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
    assert "immutable" in asset.headers["cache-control"]
    for escape in ("/assets/../index.html", "/assets/%2e%2e/%2e%2e/pyproject.toml", "/assets/nope.js"):
        assert (await client.get(escape)).status_code == 404


async def test_an_unbuilt_page_says_how_to_build_it(
    client: AsyncTestClient[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTEND_DIST", str(tmp_path / "no-build-here"))
    api = await client.get("/")
    assert api.status_code == 503 and api.json()["error"] == "frontend_not_built"
    html = await client.get("/", headers={"accept": "text/html"})
    assert html.status_code == 503 and "make run" in html.text
    assert (await client.get("/api/demos")).status_code == 200  # the API keeps working


async def test_a_path_cannot_forge_a_log_line(
    client: AsyncTestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="demo_relay.access")
    await client.get('/x%0a127.0.0.1 "POST /api/tavus-webhook" 200%0d%1b[2J?token=secret')
    [line] = [r.getMessage() for r in caplog.records if r.name == "demo_relay.access"]
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert '"GET /x\\x0a127.0.0.1 \\x22POST /api/tavus-webhook\\x22 200\\x0d\\x1b[2J" 404' in line
    assert "secret" not in line  # the query string never reaches the log


async def test_the_openapi_viewer_comes_from_our_own_origin(client: AsyncTestClient[Any]) -> None:
    viewer = await client.get("/schema")
    assert viewer.status_code == 200 and "SwaggerUIBundle" in viewer.text
    scripts = [part.split('"')[0] for part in viewer.text.split('src="')[1:]]
    styles = [part.split('"')[0] for part in viewer.text.split('href="')[1:] if ".css" in part.split('"')[0]]
    assert scripts and styles
    for url in scripts + styles:
        assert url.startswith("/assets/openapi-"), url  # nothing from a CDN
        assert (await client.get(url)).status_code == 200
    assert (await client.get("/schema/openapi.json")).json()["info"]["title"] == "demo-relay"


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/tavus-webhook", "post", {"200", "202", "400", "401", "404", "413", "422", "502", "503"}),
        ("/api/sessions/{channel}/tool-calls", "post", {"200", "202", "403", "413", "422", "429"}),
        ("/api/demos/{demo_id}/sessions", "post", {"201", "401", "404", "409", "422", "429"}),
        ("/api/demos/{demo_id}/viewer-links", "post", {"201", "401", "404", "422"}),
        ("/api/demos/{demo_id}", "get", {"200", "404", "503"}),
    ],
)
async def test_the_openapi_document_lists_each_routes_errors_in_our_shape(
    client: AsyncTestClient[Any], path: str, method: str, statuses: set[str]
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    responses = document["paths"][path][method]["responses"]
    assert statuses <= set(responses), sorted(responses)
    error_schema = document["components"]["schemas"]["ErrorOut"]
    assert set(error_schema["required"]) == {"error", "message"}
    for status in statuses - {"200", "201", "202"}:
        ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorOut"), (status, ref)
