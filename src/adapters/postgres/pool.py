"""The asyncpg pool, and the one place where driver failures become domain errors.

Only failures that say "the database cannot be reached right now" become DatabaseUnavailable (HTTP 503 with
Retry-After: a retry may succeed). Data errors (constraint violations, bad SQL) pass through unchanged:
each adapter maps the ones it expects, and anything else is a bug that should surface as one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from demo_relay.domain.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # asyncpg's classes are generic only in its stubs (asyncpg-stubs): these aliases exist for annotations.
    PgPool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    PgConnection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]

# Seconds. A query slower than this is cancelled (asyncio.TimeoutError → DatabaseUnavailable); our queries
# are single-row lookups and upserts, so anything near this means the server is in trouble.
COMMAND_TIMEOUT_S = 30.0
# Seconds to establish one connection (TCP + TLS + auth), so a dead host fails fast instead of hanging.
CONNECT_TIMEOUT_S = 10.0

# Connection-level failures, as a small map from driver exception to "unavailable" (fastapi-clean-example
# style). OSError covers refused/reset sockets, DNS failures and, since Python 3.11, TimeoutError
# (= asyncio.TimeoutError: pool acquire and command timeouts). PostgresConnectionError is SQLSTATE class 08
# (connection does not exist / failure / rejected); the others are the server refusing or dropping us.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
    asyncpg.TooManyConnectionsError,  # 53300
    asyncpg.AdminShutdownError,  # 57P01: terminated by an administrator (or a failover)
    asyncpg.CrashShutdownError,  # 57P02
)
# InterfaceError is mostly a programming error (wrong use of a connection); only these mean "gone".
_GONE_MESSAGES = ("pool is closing", "pool is closed", "connection is closed")
# When the server ends a session (pg_terminate_backend, restart, idle timeout) its FATAL message can be read
# before the end of the socket is: a query started in between fails with this protocol-state error instead
# of ConnectionDoesNotExistError. The connection is dead either way; a retry gets another one.
_BROKEN_PROTOCOL = "cannot switch to state"


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached (as opposed to a data or programming error)."""
    if isinstance(exc, _UNAVAILABLE):
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        return any(message in str(exc) for message in _GONE_MESSAGES)
    if isinstance(exc, asyncpg.InternalClientError):
        return _BROKEN_PROTOCOL in str(exc)
    return False


@asynccontextmanager
async def translate_errors() -> AsyncIterator[None]:
    """`async with translate_errors(): ...` (or `@translate_errors()` on an async function): connection-level
    failures inside become DatabaseUnavailable, chained to the driver's exception; all else passes."""
    try:
        yield
    except Exception as exc:
        if is_unavailable(exc):
            raise DatabaseUnavailable(f"database unavailable: {type(exc).__name__}: {exc}") from exc
        raise


class SessionConnection(asyncpg.Connection):
    """A pooled connection that knows whether it carries session state.

    asyncpg resets every connection it takes back (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL`): one more round trip for every pooled query, twice the cost of our one-statement lookups. Pooled
    connections here never SET, LISTEN or open cursors outside a transaction (LISTEN has a connection of its
    own); the one session state they take is a session-level advisory lock (migrations, start-up seeding),
    and whoever takes one says so first (`keeps_session_state`). Only such a connection is reset; an open
    transaction is rolled back by asyncpg on every release whatever the reset does."""

    _session_state = False

    def keeps_session_state(self) -> None:
        self._session_state = True


def keeps_session_state(conn: object) -> None:
    """Marks a connection (pooled, through its proxy, or dedicated) as holding session state: the pool runs
    the full reset when it takes it back. A dedicated connection is closed anyway."""
    mark = getattr(conn, "keeps_session_state", None)
    if mark is not None:
        mark()


async def _reset_if_needed(conn: asyncpg.Connection) -> None:
    if getattr(conn, "_session_state", False):
        query = conn.get_reset_query()
        if query:
            await conn.execute(query)
        conn._session_state = False  # type: ignore[attr-defined]


async def create_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    command_timeout: float = COMMAND_TIMEOUT_S,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    statement_cache_size: int = 100,
) -> PgPool:
    """A connected pool. Raises DatabaseUnavailable when the server cannot be reached.

    `statement_cache_size=0` is needed behind a transaction-mode pooler (pgbouncer, Supabase's port 6543),
    which cannot keep named prepared statements across transactions (100 is asyncpg's default)."""
    async with translate_errors():
        return await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            command_timeout=command_timeout,
            timeout=connect_timeout,
            statement_cache_size=statement_cache_size,
            connection_class=SessionConnection,
            reset=_reset_if_needed,
        )
