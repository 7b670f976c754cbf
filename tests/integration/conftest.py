"""Postgres fixtures for the integration tests (the server chain itself is in tests/support/postgres.py).

- `postgres_server` (session): the server: TEST_DATABASE_URL, else Docker (testcontainers), else embedded.
- `database_url` (session): DSN of this session's migrated database `demo_relay_test_<random>`.
- `db_pool` (function): an asyncpg pool on it, every table emptied (schema kept) before the test.
- `empty_database_url` (function): DSN of a brand-new database with no schema at all (migrator tests).

Server and database live for the whole session; pools are per test (they open in milliseconds), so each
test keeps the function-scoped event loop pytest-asyncio gives it by default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from demo_relay.adapters.postgres.pool import create_pool
from tests.support import postgres as pg


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pg.PostgresServer]:
    with pg.postgres_server(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(scope="session")
def database_url(postgres_server: pg.PostgresServer) -> Iterator[str]:
    with pg.fresh_database(postgres_server, migrated=True) as dsn:
        yield dsn


@pytest.fixture
def empty_database_url(postgres_server: pg.PostgresServer) -> Iterator[str]:
    with pg.fresh_database(postgres_server, migrated=False) as dsn:
        yield dsn


@pytest.fixture
async def db_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=10)
    try:
        await pg.truncate_tables(pool)
        yield pool
    finally:
        await pool.close()
