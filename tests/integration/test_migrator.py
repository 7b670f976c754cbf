"""The migrator on a real Postgres: the repository's migrations build the schema on an empty database and
are applied once (a second run applies nothing); files run in filename order, each in its own transaction
(a failing one leaves no trace and is retried, the ones before it stay); concurrent runs take turns under
the advisory lock, so every migration is applied exactly once and all callers succeed; the lock is released
afterwards; pending_migrations tells /readyz what is missing; misnamed files are refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from demo_relay.adapters.postgres.migrator import MIGRATIONS_DIR, discover, migrate, pending_migrations
from demo_relay.adapters.postgres.pool import create_pool
from demo_relay.domain.errors import ConfigurationError

REPO_IDS = [m.id for m in discover()]


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


async def fetchval(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_repository_migrations_apply_once(empty_database_url: str):
    assert MIGRATIONS_DIR.is_dir() and REPO_IDS  # the default directory is the repository's migrations/
    assert await pending_migrations(empty_database_url) == REPO_IDS

    assert await migrate(empty_database_url) == REPO_IDS
    assert await migrate(empty_database_url) == []
    assert await pending_migrations(empty_database_url) == []

    tables = await fetchval(
        empty_database_url,
        "select array_agg(tablename::text order by tablename) from pg_tables where schemaname = 'public'",
    )
    assert tables == [
        "agent_conversations",
        "channel_events",
        "channel_heads",
        "conversations",
        "demo_relay_schema_migrations",
        "demo_videos",
        "demos",
        "video_plays",
        "webhook_events",
    ]
    trgm = "select count(*) from pg_extension where extname = 'pg_trgm'"
    assert await fetchval(empty_database_url, trgm) == 1
    versions = await fetchval(
        empty_database_url, "select array_agg(version || '_' || name) from demo_relay_schema_migrations"
    )
    assert versions == REPO_IDS


async def test_files_apply_in_order_and_new_ones_are_pending(empty_database_url: str, tmp_path: Path):
    directory = write(
        tmp_path / "m",
        {
            "20260102000000_second.sql": "insert into log values ('second');",
            "20260101000000_first.sql": "create table log (entry text, at timestamptz default now());",
        },
    )
    assert await migrate(empty_database_url, directory) == ["20260101000000_first", "20260102000000_second"]

    write(directory, {"20260103000000_third.sql": "insert into log values ('third');"})
    assert await pending_migrations(empty_database_url, directory) == ["20260103000000_third"]
    assert await migrate(empty_database_url, directory) == ["20260103000000_third"]
    assert await fetchval(empty_database_url, "select array_agg(entry order by at) from log") == [
        "second",
        "third",
    ]


async def test_a_failing_migration_is_rolled_back_and_retried(empty_database_url: str, tmp_path: Path):
    directory = write(
        tmp_path / "m",
        {
            "20260101000000_ok.sql": "create table kept (id int);",
            "20260102000000_broken.sql": "create table half_done (id int); select 1/0;",
        },
    )
    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(empty_database_url, directory)

    assert await pending_migrations(empty_database_url, directory) == ["20260102000000_broken"]
    assert await fetchval(empty_database_url, "select to_regclass('kept') is not null") is True
    assert await fetchval(empty_database_url, "select to_regclass('half_done') is null") is True

    write(directory, {"20260102000000_broken.sql": "create table half_done (id int);"})
    # The failed run released its lock: this one does not wait for it.
    assert await asyncio.wait_for(migrate(empty_database_url, directory), 10) == ["20260102000000_broken"]


async def test_concurrent_runs_apply_each_migration_exactly_once(empty_database_url: str, tmp_path: Path):
    # Not idempotent on purpose: a second application would fail (table exists / duplicate key), and the
    # sleep keeps the first run inside its migration while the others arrive.
    directory = write(
        tmp_path / "m",
        {
            "20260101000000_create.sql": "select pg_sleep(0.3); create table things (id int primary key);",
            "20260102000000_fill.sql": "insert into things values (1);",
        },
    )
    results = await asyncio.gather(*(migrate(empty_database_url, directory) for _ in range(4)))

    applied = [m for result in results for m in result]
    assert sorted(applied) == ["20260101000000_create", "20260102000000_fill"]
    assert await fetchval(empty_database_url, "select count(*) from things") == 1
    assert await fetchval(empty_database_url, "select count(*) from demo_relay_schema_migrations") == 2


async def test_accepts_a_pool_or_a_connection_and_releases_the_lock(empty_database_url: str, tmp_path: Path):
    directory = write(tmp_path / "m", {"20260101000000_t.sql": "create table t (id int);"})
    conn = await asyncpg.connect(empty_database_url)
    pool = await create_pool(empty_database_url)
    try:
        assert await pending_migrations(pool, directory) == ["20260101000000_t"]
        assert await migrate(conn, directory) == ["20260101000000_t"]
        # The caller's session is still open, so a leaked session-level lock would still be listed.
        assert await conn.fetchval("select count(*) from pg_locks where locktype = 'advisory'") == 0
        assert await migrate(pool, directory) == []
        assert await pending_migrations(conn, directory) == []
    finally:
        await pool.close()
        await conn.close()


@pytest.mark.parametrize(
    "files",
    [
        {"initial.sql": "select 1;"},
        {"v1_init.sql": "select 1;"},
        {"20260101000000_a.sql": "select 1;", "20260101000000_b.sql": "select 1;"},
    ],
)
def test_misnamed_or_clashing_files_are_refused(tmp_path: Path, files: dict[str, str]):
    with pytest.raises(ConfigurationError):
        discover(write(tmp_path / "m", files))


def test_a_missing_directory_is_refused(tmp_path: Path):
    with pytest.raises(ConfigurationError):
        discover(tmp_path / "nope")


def test_other_files_are_ignored(tmp_path: Path):
    directory = write(tmp_path / "m", {"README.md": "notes", "20260101000000_a.sql": "select 1;"})
    assert [m.id for m in discover(directory)] == ["20260101000000_a"]


async def test_versions_the_supabase_cli_applied_count_as_applied(empty_database_url: str, tmp_path: Path):
    """`supabase db push` records versions in supabase_migrations.schema_migrations (version text)."""
    directory = write(
        tmp_path / "m",
        {
            "20260101000000_one.sql": "create table one (id int);",
            "20260102000000_two.sql": "create table two (id int);",
        },
    )
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute(
            "create schema supabase_migrations;"
            "create table supabase_migrations.schema_migrations (version text primary key, name text);"
            "insert into supabase_migrations.schema_migrations values ('20260101000000', 'one');"
            "create table one (id int);"
        )
    finally:
        await conn.close()
    assert await pending_migrations(empty_database_url, directory) == ["20260102000000_two"]
    assert await migrate(empty_database_url, directory) == ["20260102000000_two"]
    assert await migrate(empty_database_url, directory) == []
