"""The database handle the composition root hands out: the pool is opened in the app's lifespan and
closed there, so nothing connects at import time or in another event loop (Litestar's test client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from demo_relay.adapters.postgres.migrator import migrate, pending_migrations
from demo_relay.adapters.postgres.pool import create_pool, keeps_session_state
from demo_relay.domain.errors import DatabaseUnavailable

STARTUP_LOCK_KEY = 0x64656D6F_73656564  # "demoseed"


class Database:
    def __init__(self) -> None:
        self._pool: asyncpg.Pool | None = None
        self.dsn: str | None = None

    async def open(self, dsn: str) -> None:
        if self._pool is None:
            self._pool = await create_pool(dsn)
            self.dsn = dsn

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise DatabaseUnavailable("the database pool is not open")
        return self._pool

    async def migrate(self) -> list[str]:
        return await migrate(self.pool)

    @asynccontextmanager
    async def exclusively(self, key: int = STARTUP_LOCK_KEY) -> AsyncIterator[None]:
        """Holds a session-level advisory lock for the block: of several instances starting at once on one
        database, one at a time seeds (the others then find demos and seed nothing)."""
        async with self.pool.acquire() as conn:
            keeps_session_state(conn)  # reset when released, whatever happens to the unlock below
            await conn.execute("select pg_advisory_lock($1)", key)
            try:
                yield
            finally:
                if not conn.is_closed():
                    await conn.execute("select pg_advisory_unlock($1)", key)

    async def readiness(self) -> str | None:
        """None when ready, else why not (database unreachable, migrations pending)."""
        try:
            async with self.pool.acquire(timeout=2) as conn:
                await conn.fetchval("select 1")
            pending = await pending_migrations(self.pool)
        except (
            OSError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            TimeoutError,
            DatabaseUnavailable,
        ) as exc:
            return f"database unreachable ({type(exc).__name__})"
        if pending:
            return f"{len(pending)} migration(s) pending"
        return None
