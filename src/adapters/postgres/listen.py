"""A LISTEN connection of its own (never a pooled one: LISTEN is session state), shared by the hub's relay
and the catalog's copies: connect, listen, and hold until the connection is lost, with a keepalive query so
that a silent drop (a NAT or a failover that sends nothing) is noticed too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

Notified = Callable[[Any, int, str, Any], None]  # asyncpg's listener: (connection, pid, channel, payload)


@dataclass
class Listening:
    conn: asyncpg.Connection[Any]
    lost: asyncio.Event

    async def until_lost(self, keepalive_s: float) -> None:
        """Returns when the server ends the session; a keepalive that fails raises."""
        while not self.lost.is_set():
            try:
                await asyncio.wait_for(self.lost.wait(), keepalive_s)
            except TimeoutError:
                await self.conn.fetchval("select 1", timeout=keepalive_s)  # a silent drop


@asynccontextmanager
async def listening(
    dsn: str, channel: str, on_notify: Notified, application_name: str
) -> AsyncIterator[Listening]:
    """A connection LISTENing on `channel` (each notification to `on_notify`), closed on the way out."""
    lost = asyncio.Event()
    conn: asyncpg.Connection[Any] = await asyncpg.connect(
        dsn, timeout=10, server_settings={"application_name": application_name}
    )
    try:
        conn.add_termination_listener(lambda _: lost.set())
        await conn.add_listener(channel, on_notify)
        yield Listening(conn, lost)
    finally:
        if not conn.is_closed():
            conn.terminate()
