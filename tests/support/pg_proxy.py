"""A loopback TCP proxy in front of the test Postgres (TCP or unix socket) that a test can cut and restore,
to see what the service does when its database becomes unreachable — a real outage, not a mock."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs, urlsplit, urlunsplit

from tests.support.server import free_port


class PostgresProxy:
    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
        self._port = parts.port or 5432
        self._unix = f"{host}/.s.PGSQL.{self._port}" if host.startswith("/") else None
        self._host = host
        self.listen_port = free_port()
        netloc = f"{parts.username or 'postgres'}" + (f":{parts.password}" if parts.password else "")
        self.dsn = urlunsplit((parts.scheme, f"{netloc}@127.0.0.1:{self.listen_port}", parts.path, "", ""))
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)

    async def cut(self) -> None:
        """Stops listening and drops every open connection (the database host vanished)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            if self._unix:
                up_reader, up_writer = await asyncio.open_unix_connection(self._unix)
            else:
                up_reader, up_writer = await asyncio.open_connection(self._host, self._port)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.close()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._pipes.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()
