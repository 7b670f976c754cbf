"""The database handle the composition root hands out: the pool is opened in the app's lifespan and
closed there, so nothing connects at import time or in another event loop (Litestar's test client)."""

from __future__ import annotations

import asyncpg

from demo_relay.adapters.postgres.migrator import migrate, pending_migrations
from demo_relay.adapters.postgres.pool import create_pool
from demo_relay.domain.errors import DatabaseUnavailable


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
