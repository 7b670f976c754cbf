"""Question 1b — what does a webhook cost Postgres, three ways (the issue's "measure both")?

The database work of one play_video, alone (no HTTP), against an embedded Postgres seeded like `serve`:
- `four statements` (before): claim, the conversation's demo, the ranked videos, the completion — on a pool
  that resets every connection it takes back (asyncpg's default: one more round trip per statement), and the
  same four on a pool that does not (pool.py now);
- `one statement`: the claim and the resolution in one CTE (the claim, the conversation's demo, the demo's
  videos ranked by pg_trgm), the completion written behind;
- `claim only` (what runs now): the claim; the demo and the title come from the in-process copies kept true
  by NOTIFY (catalog_cache.py), the completion written behind.
Each sequentially (µs per webhook, wall) and with 16 at a time (webhooks/s). The baseline is `select 1` on
the same pool: one round trip and nothing else.

Run: `make bench` (or `.venv/bin/python -m bench.hot_path_db`). Nothing here asserts a time."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from bench import harness as h
from demo_relay.adapters.postgres.catalog import _RANKED_VIDEOS, DEFAULT_TITLE_MATCH_THRESHOLD
from demo_relay.adapters.postgres.ledger import _CLAIM, _COMPLETE, DEFAULT_LEASE_S
from demo_relay.adapters.postgres.migrator import migrate
from demo_relay.adapters.postgres.pool import create_pool

SEQUENTIAL = 20 if h.SMOKE else 2_000
CONCURRENT = 40 if h.SMOKE else 4_000
AT_ONCE = 16

# The adapters' own SQL composed: the claim, then the catalog's ranking with the conversation's demo for $1.
_RANKED_FOR_CONVERSATION = (
    _RANKED_VIDEOS.replace("$1::uuid", "conv.demo_id").replace("$2", "$6").replace("$3::real", "$7::real")
)
_ONE_STATEMENT = f"""
with claim as ({_CLAIM.strip()}),
     conv as (select demo_id from conversations where conversation_id = $3)
select (select attempts from claim) as attempts, ranked.*
from conv
left join lateral ({_RANKED_FOR_CONVERSATION}) ranked on true"""

Step = Callable[[asyncpg.Pool, int], Awaitable[Any]]


def payload(i: int, conversation: str) -> tuple[str, str]:
    key = f"bench-{uuid.uuid4().hex}-{i}"
    document = {
        "event_type": "conversation.tool_call",
        "conversation_id": conversation,
        "properties": {"i": i},
    }
    return key, json.dumps(document)


async def setup(pool: asyncpg.Pool) -> tuple[str, str]:
    demo = await pool.fetchval("insert into demos (name) values ('Bench') returning id::text")
    for title in ("Product Overview", "Pricing Walkthrough", "Integrations tour"):
        await pool.execute(
            "insert into demo_videos (demo_id, title, storage_path) values ($1, $2, $3)",
            uuid.UUID(demo),
            title,
            f"{demo}/{title}.mp4",
        )
    conversation = "c-bench"
    await pool.execute(
        "insert into conversations (conversation_id, demo_id) values ($1, $2)", conversation, uuid.UUID(demo)
    )
    return demo, conversation


def four_statements(demo: str, conversation: str) -> Step:
    async def step(pool: asyncpg.Pool, i: int) -> Any:
        key, document = payload(i, conversation)
        await pool.fetchval(_CLAIM, key, "tool_call.play_video", conversation, document, DEFAULT_LEASE_S)
        demo_id = await pool.fetchval(
            "select demo_id::text from conversations where conversation_id = $1", conversation
        )
        await pool.fetch(
            _RANKED_VIDEOS, uuid.UUID(demo_id), "pricing walkthrough", DEFAULT_TITLE_MATCH_THRESHOLD
        )
        await pool.execute(_COMPLETE, key, "played")

    return step


def one_statement(demo: str, conversation: str) -> Step:
    async def step(pool: asyncpg.Pool, i: int) -> Any:
        key, document = payload(i, conversation)
        rows = await pool.fetch(
            _ONE_STATEMENT,
            key,
            "tool_call.play_video",
            conversation,
            document,
            DEFAULT_LEASE_S,
            "pricing walkthrough",
            DEFAULT_TITLE_MATCH_THRESHOLD,
        )
        assert rows and rows[0]["attempts"] is not None and rows[0]["title"] == "Pricing Walkthrough"

    return step


def claim_only(demo: str, conversation: str) -> Step:
    async def step(pool: asyncpg.Pool, i: int) -> Any:
        key, document = payload(i, conversation)
        await pool.fetchval(_CLAIM, key, "tool_call.play_video", conversation, document, DEFAULT_LEASE_S)

    return step


def select_one(demo: str, conversation: str) -> Step:
    async def step(pool: asyncpg.Pool, i: int) -> Any:
        await pool.fetchval("select 1")

    return step


async def measure(pool: asyncpg.Pool, step: Step) -> dict[str, float]:
    for i in range(50):  # warm: prepared statements, caches
        await step(pool, i)
    times = []
    for i in range(SEQUENTIAL):
        t = time.perf_counter()
        await step(pool, i)
        times.append(time.perf_counter() - t)
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(i: int) -> None:
        async with gate:
            await step(pool, i)

    t = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(CONCURRENT)))
    elapsed = time.perf_counter() - t
    return {
        "sequential_p50_us": round(statistics.median(times) * 1e6, 1),
        "concurrent_per_s": round(CONCURRENT / elapsed, 1),
    }


async def main_async(dsn: str) -> dict[str, Any]:
    await migrate(dsn)
    fresh = await create_pool(dsn, min_size=AT_ONCE, max_size=AT_ONCE)
    resetting = await asyncpg.create_pool(dsn, min_size=AT_ONCE, max_size=AT_ONCE)  # asyncpg's default reset
    try:
        demo, conversation = await setup(fresh)
        results: dict[str, Any] = {}
        for label, pool, make in (
            ("select 1 (baseline: one round trip)", fresh, select_one),
            ("four statements, resetting pool (before)", resetting, four_statements),
            ("four statements, pool without reset", fresh, four_statements),
            ("one statement: claim + resolve (CTE)", fresh, one_statement),
            ("claim only + in-process catalog (now)", fresh, claim_only),
        ):
            results[label] = await measure(pool, make(demo, conversation))
        return results
    finally:
        await fresh.close()
        await resetting.close()


def main() -> None:
    h.pin_self_to_load_cpus()
    with tempfile.TemporaryDirectory(prefix="demo-relay-bench-") as tmp, h.postgres(Path(tmp)) as dsn:
        results = h.run(main_async(dsn))
    base = next(iter(results.values()))
    print(f"hot path, Postgres only: {SEQUENTIAL} sequential, then {CONCURRENT} with {AT_ONCE} at a time")
    print(f"  {'way':44} {'p50 µs':>8} {'ratio':>6} {'webhooks/s':>11}")
    for label, row in results.items():
        ratio = row["sequential_p50_us"] / base["sequential_p50_us"]
        row["p50_ratio_to_select_1"] = round(ratio, 2)
        print(f"  {label:44} {row['sequential_p50_us']:8.0f} {ratio:6.2f} {row['concurrent_per_s']:11.0f}")
    h.Results("hot_path_db", {"sequential": SEQUENTIAL, "concurrent": CONCURRENT, **results}).write()


if __name__ == "__main__":
    main()
