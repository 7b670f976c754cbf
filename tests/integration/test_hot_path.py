"""The webhook's hot path without its round trips (issue 13), still exactly as true as Postgres:

- the in-process copies (catalog_cache.py) follow changes made behind this instance's back (psql, another
  instance, the CLI) through NOTIFY, and are not used while the LISTEN connection is down;
- the writes behind the answer (write_behind.py) land: the delivery ends 'played', the play is in the
  owner's history, and a clean stop writes what was still queued;
- pooled connections skip asyncpg's reset query unless they took session state (pool.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from demo_relay.adapters.postgres.pool import create_pool, keeps_session_state
from tests.support.app import (
    CONVERSATION,
    SeededApp,
    make_settings,
    owner_headers,
    play_video_body,
    tavus_headers,
)

WEBHOOK = "/api/tavus-webhook"


@pytest.fixture
async def seeded(tmp_path: Path, database_url: str, db_pool: asyncpg.Pool) -> SeededApp:
    return SeededApp(make_settings(tmp_path, database_url), database_url)


@pytest.fixture
async def client(seeded: SeededApp) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(seeded.app) as test_client:
        cache = seeded.container.catalog_cache()
        async with asyncio.timeout(10):
            while not cache.live:
                await asyncio.sleep(0.01)
        registered = await test_client.post(
            f"/api/demos/{seeded.demo_id}/sessions",
            headers=owner_headers(),
            json={"conversation_id": CONVERSATION},
        )
        assert registered.status_code == 201, registered.text
        yield test_client


async def play(client: AsyncTestClient[Any], title: str, call_id: str) -> Any:
    body = play_video_body(title, call_id)
    return await client.post(WEBHOOK, content=body, headers=tavus_headers(body))


async def until(predicate: Any, within_s: float = 5.0) -> None:
    async with asyncio.timeout(within_s):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_a_rename_behind_our_back_is_seen_through_notify(
    client: AsyncTestClient[Any], seeded: SeededApp, db_pool: asyncpg.Pool
) -> None:
    first = await play(client, "Pricing Walkthrough", "call-1")
    assert first.status_code == 200, first.text
    cache = seeded.container.catalog_cache()
    assert cache.titles(seeded.demo_id) is not None  # the demo's titles are kept here now
    hits = cache.hits
    again = await play(client, "pricing   walkthrough", "call-2")  # same title key: from the copy
    assert again.status_code == 200 and cache.hits == hits + 1

    # psql, another instance, the CLI: a write this instance's adapters never saw.
    await db_pool.execute(
        "update demo_videos set title = 'Pricing, Explained'"
        " where demo_id = $1 and title = 'Pricing Walkthrough'",
        uuid.UUID(seeded.demo_id),
    )
    await until(lambda: cache.titles(seeded.demo_id) is None)  # the NOTIFY dropped the copy

    renamed = await play(client, "Pricing, Explained", "call-3")
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["video"]["title"] == "Pricing, Explained"
    gone = await play(client, "Pricing Walkthrough", "call-4")  # the old title is not served from a copy
    if gone.status_code == 200:  # pg_trgm may still find the renamed video near enough
        assert gone.json()["video"]["title"] == "Pricing, Explained"
    else:
        assert gone.status_code == 404 and gone.json()["error"] == "video_not_found", gone.text


async def test_the_copies_are_not_used_while_not_listening(
    client: AsyncTestClient[Any], seeded: SeededApp, db_pool: asyncpg.Pool
) -> None:
    assert (await play(client, "Pricing Walkthrough", "call-1")).status_code == 200
    cache = seeded.container.catalog_cache()
    # The LISTEN connection dies (a failover, an idle timeout): deaf, the copies must not be trusted.
    killed = await db_pool.fetchval(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity"
        " where application_name = 'demo-relay-catalog'"
    )
    assert killed == 1
    await until(lambda: not cache.live)
    assert cache.titles(seeded.demo_id) is None and cache.demo_of(CONVERSATION) is None
    await db_pool.execute(
        "update demo_videos set title = 'Renamed While Deaf'"
        " where demo_id = $1 and title = 'Pricing Walkthrough'",
        uuid.UUID(seeded.demo_id),
    )
    answer = await play(client, "Renamed While Deaf", "call-2")  # from Postgres, whether or not it is back
    assert answer.status_code == 200 and answer.json()["video"]["title"] == "Renamed While Deaf"
    await until(lambda: cache.live)  # it reconnects by itself, and starts empty
    assert (await play(client, "Renamed While Deaf", "call-3")).status_code == 200


async def test_writes_behind_the_answer_land(
    client: AsyncTestClient[Any], seeded: SeededApp, db_pool: asyncpg.Pool
) -> None:
    for i in range(20):
        assert (await play(client, "Pricing Walkthrough", f"call-{i}")).status_code == 200
    writes = seeded.container.write_behind()
    await until(lambda: writes.pending == 0)
    statuses = await db_pool.fetch(
        "select status from webhook_events where event_type = 'tool_call.play_video'"
    )
    assert [row["status"] for row in statuses] == ["played"] * 20
    history = await client.get(f"/api/demos/{seeded.demo_id}/conversations", headers=owner_headers())
    plays = next(c for c in history.json() if c["conversation_id"] == CONVERSATION)["plays"]
    assert len(plays) == 20


async def test_a_clean_stop_writes_what_is_still_queued(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    seeded = SeededApp(make_settings(tmp_path, database_url), database_url)
    async with AsyncTestClient(seeded.app) as client:
        await client.post(
            f"/api/demos/{seeded.demo_id}/sessions",
            headers=owner_headers(),
            json={"conversation_id": CONVERSATION},
        )
        writes = seeded.container.write_behind()
        for i in range(5):
            assert (await play(client, "Pricing Walkthrough", f"stop-{i}")).status_code == 200
    assert writes.pending == 0
    played = await db_pool.fetchval("select count(*) from webhook_events where status = 'played'")
    recorded = await db_pool.fetchval("select count(*) from video_plays")
    assert (played, recorded) == (5, 5)


async def test_pooled_connections_skip_the_reset_query_unless_they_kept_session_state(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("set application_name = 'changed-by-a-test'")
        async with pool.acquire() as conn:  # not reset: nothing of ours sets session state unannounced
            assert await conn.fetchval("show application_name") == "changed-by-a-test"
            keeps_session_state(conn)
            await conn.execute("select pg_advisory_lock(4242)")
        async with pool.acquire() as conn:  # announced: the full reset ran (RESET ALL, advisory locks)
            assert await conn.fetchval("show application_name") != "changed-by-a-test"
            held = await conn.fetchval(
                "select count(*) from pg_locks where locktype = 'advisory' and objid = 4242"
            )
            assert held == 0
    finally:
        await pool.close()
