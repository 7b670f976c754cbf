"""The one conftest: the Postgres fixtures every integration and e2e test uses (the server chain itself
is in tests/support/postgres.py), and a line in the summary saying which Postgres the run used.

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

_used: list[pg.PostgresServer] = []


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pg.PostgresServer]:
    with pg.postgres_server(tmp_path_factory.mktemp("postgres")) as server:
        _used.append(server)
        yield server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    where = _used[0].describe() if _used else "none (no test of this run needed one)"
    terminalreporter.write_line(f"Postgres used by this run: {where}")


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
