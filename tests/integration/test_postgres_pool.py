"""Driver failures meet the domain in one place (pool.translate_errors): a server that cannot be reached, a
closed pool, a connection the server dropped and a query that exceeds the command timeout all become
DatabaseUnavailable (503, retry later) on a real Postgres, through the adapters too; data errors (division
by zero, bad SQL, constraint violations) pass through unchanged."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.adapters.postgres.ledger import AsyncpgDeliveryLedger
from demo_relay.adapters.postgres.migrator import migrate, pending_migrations
from demo_relay.adapters.postgres.pool import create_pool, translate_errors
from demo_relay.domain.errors import DatabaseUnavailable
from demo_relay.domain.ports import DeliveryRecord

NOWHERE = [
    "postgresql://postgres@127.0.0.1:1/postgres",  # nothing listens on port 1
    "postgresql://postgres@/postgres?host=/nonexistent/socket/dir",
]


@pytest.mark.parametrize("dsn", NOWHERE)
async def test_an_unreachable_server_is_unavailable(dsn: str):
    with pytest.raises(DatabaseUnavailable) as raised:
        await create_pool(dsn, connect_timeout=2)
    assert isinstance(raised.value.__cause__, OSError)
    with pytest.raises(DatabaseUnavailable):
        await migrate(dsn)
    with pytest.raises(DatabaseUnavailable):
        await pending_migrations(dsn)


async def test_a_closed_pool_is_unavailable(database_url: str):
    pool = await create_pool(database_url)
    await pool.close()
    with pytest.raises(DatabaseUnavailable):
        await AsyncpgDemoCatalog(pool).list_demos()
    with pytest.raises(DatabaseUnavailable):
        await AsyncpgDeliveryLedger(pool).claim(DeliveryRecord("k", "tool_call", None, None))


@pytest.mark.parametrize("noticed", [False, True], ids=["at-once", "after-the-client-noticed"])
async def test_a_connection_the_server_dropped_is_unavailable(
    database_url: str, db_pool: asyncpg.Pool, noticed: bool
):
    """At once: the server's FATAL message may be read before the socket's end (a protocol-state error);
    later: the client knows the connection is closed. Both are "unavailable"."""
    conn = await asyncpg.connect(database_url)
    try:
        await db_pool.execute("select pg_terminate_backend($1)", conn.get_server_pid())
        if noticed:
            for _ in range(200):
                if conn.is_closed():
                    break
                await asyncio.sleep(0.01)
            assert conn.is_closed()
        with pytest.raises(DatabaseUnavailable):
            async with translate_errors():
                await conn.fetchval("select 1")
    finally:
        await conn.close()


async def test_a_query_over_the_command_timeout_is_unavailable(database_url: str):
    pool = await create_pool(database_url, command_timeout=0.2)
    try:
        with pytest.raises(DatabaseUnavailable):
            async with translate_errors():
                await pool.execute("select pg_sleep(2)")
    finally:
        await pool.close()


async def test_data_errors_pass_through(db_pool: asyncpg.Pool):
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with translate_errors():
            await db_pool.fetchval("select 1/0")
    with pytest.raises(asyncpg.PostgresSyntaxError):
        async with translate_errors():
            await db_pool.fetchval("selec 1")
    with pytest.raises(asyncpg.NotNullViolationError):
        async with translate_errors():
            await db_pool.execute("insert into demos (name) values (null)")


async def test_works_as_a_decorator_too(database_url: str):
    pool = await create_pool(database_url)
    await pool.close()

    @translate_errors()
    async def query() -> object:
        return await pool.fetchval("select 1")

    with pytest.raises(DatabaseUnavailable):
        await query()
