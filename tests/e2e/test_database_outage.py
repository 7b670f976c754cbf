"""When Postgres becomes unreachable mid-flight the webhook answers 503 with Retry-After (and /readyz 503),
sends nothing, and the same delivery succeeds once the database is back — Tavus's retry is not lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import httpx
from websockets.asyncio.client import connect

from tests.support.app import CONVERSATION, SeededApp, make_settings, owner_headers, tavus_headers
from tests.support.pg_proxy import PostgresProxy
from tests.support.server import free_port, running
from tests.support.tavus_fixtures import fixture_bytes


async def test_database_outage_is_503_and_the_retry_delivers(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    proxy = PostgresProxy(database_url)
    await proxy.start()
    port = free_port()
    seeded = SeededApp(make_settings(tmp_path, proxy.dsn, port=port), proxy.dsn)
    async with running(seeded.app, port) as base, httpx.AsyncClient(base_url=base, timeout=15) as http:
        session = (
            await http.post(
                f"/api/demos/{seeded.demo_id}/sessions",
                headers=owner_headers(),
                json={"conversation_id": CONVERSATION},
            )
        ).json()
        async with connect(f"{session['websocket']['url']}?token={session['websocket']['token']}") as ws:
            assert json.loads(await ws.recv())["event"] == "subscribed"
            body = fixture_bytes("tool_call.play_video.json")

            await proxy.cut()
            down = await http.post("/api/tavus-webhook", content=body, headers=tavus_headers(body))
            assert down.status_code == 503
            assert down.json()["error"] == "database_unavailable" and down.headers["retry-after"]
            # Which dependency, never its error class, address or errno (those are for our log).
            assert down.json() == {
                "error": "database_unavailable",
                "message": "the database is unavailable; retry later",
            }
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
            assert (await http.get("/healthz")).status_code == 200  # the process itself is fine
            try:
                await asyncio.wait_for(ws.recv(), 0.3)
                raise AssertionError("an event was sent during the outage")
            except TimeoutError:
                pass

            await proxy.start()
            retried = await http.post("/api/tavus-webhook", content=body, headers=tavus_headers(body))
            assert retried.status_code == 200 and retried.json()["status"] == "played"
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert frame["event"] == "play_video" and frame["payload"]["title"] == "Product Overview"
            assert (await http.get("/readyz")).status_code == 200
    await proxy.cut()
