"""Applies the package's migrations/<UTC timestamp>_<name>.sql (Supabase CLI naming; the repository's
top-level migrations/ links here), each once, in filename order.

Each file runs in its own transaction together with its row in demo_relay_schema_migrations, so a failed
migration leaves no trace and is retried by the next run. The whole run holds a session-level advisory lock
on one dedicated connection: two processes starting at once (two app instances, `serve` next to `migrate`)
take turns, and the second finds the work done. Versions the Supabase CLI recorded as applied
(`supabase db push`, in supabase_migrations.schema_migrations) count as applied too."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from demo_relay.adapters.postgres.pool import CONNECT_TIMEOUT_S, keeps_session_state, translate_errors
from demo_relay.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgConnection, PgPool

# Shipped inside the package (a wheel carries them), found the same way in a checkout and an install.
MIGRATIONS_DIR = Path(str(resources.files("demo_relay.adapters.postgres") / "migrations"))
TABLE = "demo_relay_schema_migrations"
# Any fixed 64-bit key, unique to this application within a database ("demorela" in ASCII).
LOCK_KEY = 0x64656D6F72656C61

_FILENAME = re.compile(r"^(?P<version>\d+)_(?P<name>[A-Za-z0-9_.-]+)\.sql$")
_CREATE_TABLE = f"""
create table if not exists {TABLE} (
    version    text primary key,
    name       text not null,
    applied_at timestamptz not null default now()
)"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.version}_{self.name}"


def discover(migrations_dir: Path | None = None) -> list[Migration]:
    """The migration files, in the order they apply. A `.sql` file not named `<digits>_<name>.sql`, or two
    files with one version, is a ConfigurationError: skipping it silently would leave the schema behind."""
    directory = migrations_dir or MIGRATIONS_DIR
    if not directory.is_dir():
        raise ConfigurationError(f"migrations directory {directory} does not exist")
    migrations: list[Migration] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.sql"), key=lambda p: p.name):
        match = _FILENAME.match(path.name)
        if match is None:
            raise ConfigurationError(f"migration file {path.name!r} is not named <timestamp>_<name>.sql")
        version = match["version"]
        if version in seen:
            raise ConfigurationError(f"two migration files share the version {version}")
        seen.add(version)
        migrations.append(Migration(version, match["name"], path))
    return migrations


async def migrate(dsn_or_conn: str | PgPool | PgConnection, migrations_dir: Path | None = None) -> list[str]:
    """Applies the pending migrations; returns the ids (`<version>_<name>`) of those it applied.
    Raises DatabaseUnavailable when the server cannot be reached; a failing migration's own error passes."""
    migrations = discover(migrations_dir)
    async with translate_errors(), _dedicated(dsn_or_conn) as conn:
        # Session-level, not transaction-level: the lock must span several transactions (one per file).
        keeps_session_state(conn)
        await conn.execute("select pg_advisory_lock($1)", LOCK_KEY)
        try:
            await conn.execute(_CREATE_TABLE)
            done = await _applied(conn)
            applied: list[str] = []
            for migration in migrations:
                if migration.version in done:
                    continue
                sql = migration.path.read_text(encoding="utf-8")
                async with conn.transaction():
                    await conn.execute(sql)  # no arguments: simple protocol, several statements allowed
                    await conn.execute(
                        f"insert into {TABLE} (version, name) values ($1, $2)",  # noqa: S608 (constant)
                        migration.version,
                        migration.name,
                    )
                applied.append(migration.id)
            return applied
        finally:
            # A broken connection has released the lock with its session; asking would only raise again.
            if not conn.is_closed():
                await conn.execute("select pg_advisory_unlock($1)", LOCK_KEY)


async def pending_migrations(
    pool_or_conn: str | PgPool | PgConnection, migrations_dir: Path | None = None
) -> list[str]:
    """Ids of the migrations not applied yet (all of them on a fresh database), for /readyz."""
    migrations = discover(migrations_dir)
    async with translate_errors(), _dedicated(pool_or_conn) as conn:
        done = await _applied(conn)
    return [m.id for m in migrations if m.version not in done]


# Where `supabase db push` records what it applied. The files are named the way the Supabase CLI names
# them, so a project may apply them with either tool; a version either one applied counts as applied.
SUPABASE_CLI_TABLE = "supabase_migrations.schema_migrations"


async def _applied(conn: PgConnection) -> set[str]:
    done: set[str] = set()
    for table in (TABLE, SUPABASE_CLI_TABLE):
        if await conn.fetchval("select to_regclass($1) is not null", table):
            rows = await conn.fetch(f"select version::text from {table}")  # noqa: S608 (constant)
            done.update(row["version"] for row in rows)
    return done


@asynccontextmanager
async def _dedicated(target: str | PgPool | PgConnection) -> AsyncIterator[PgConnection]:
    """One connection for the whole run: its own when given a DSN (closed after), one of the pool's, or the
    caller's connection as it is."""
    if isinstance(target, str):
        conn = await asyncpg.connect(target, timeout=CONNECT_TIMEOUT_S)
        try:
            yield conn
        finally:
            await conn.close()
    elif isinstance(target, asyncpg.Pool):
        async with target.acquire() as pooled:
            yield pooled
    else:
        yield target
