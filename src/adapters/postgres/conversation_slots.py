"""ConversationSlots on Postgres (`agent_conversations`): the conversations this deployment started, at
most N open at once across every instance. A reservation is counted and inserted under one transaction-
scoped advisory lock, so two instances starting at once can't both take the last slot."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from demo_relay.adapters.postgres.pool import translate_errors

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgPool

# A fixed key of this service's advisory locks (pg_advisory_xact_lock takes any bigint).
SLOTS_LOCK_KEY = 0x64656D6F_736C6F74  # "demoslot"

_OPEN = "select count(*) from agent_conversations where status <> 'ended'"
_RESERVE = "insert into agent_conversations (demo_id, ends_by) values ($1, $2) returning id::text"

# Releasing stale reservations first, then the open conversations past their end.
_RELEASE_STALE = """
delete from agent_conversations where status = 'starting' and created_at < $1"""
_OVERDUE = """
select conversation_id, demo_id::text from agent_conversations
where status = 'active' and ends_by < $1
order by ends_by"""


class AsyncpgConversationSlots:
    """Implements the ConversationSlots port."""

    def __init__(self, pool: PgPool) -> None:
        self._pool = pool

    async def reserve(self, demo_id: str, limit: int, ends_by: datetime) -> str | None:
        async with translate_errors(), self._pool.acquire() as conn, conn.transaction():
            await conn.execute("select pg_advisory_xact_lock($1)", SLOTS_LOCK_KEY)
            if await conn.fetchval(_OPEN) >= limit:
                return None
            reservation: str = await conn.fetchval(_RESERVE, uuid.UUID(demo_id), ends_by)
            return reservation

    async def activate(self, reservation: str, conversation_id: str) -> None:
        async with translate_errors():
            await self._pool.execute(
                "update agent_conversations set status = 'active', conversation_id = $2 where id = $1",
                uuid.UUID(reservation),
                conversation_id,
            )

    async def release(self, reservation: str) -> None:
        async with translate_errors():
            await self._pool.execute(
                "delete from agent_conversations where id = $1 and status = 'starting'",
                uuid.UUID(reservation),
            )

    async def finish(self, conversation_id: str) -> None:
        if "\x00" in conversation_id:
            return
        async with translate_errors():
            await self._pool.execute(
                "update agent_conversations set status = 'ended', ended_at = coalesce(ended_at, now())"
                " where conversation_id = $1",
                conversation_id,
            )

    async def overdue(self, now: datetime, stale_start_s: float) -> Sequence[tuple[str, str]]:
        async with translate_errors():
            await self._pool.execute(_RELEASE_STALE, now - timedelta(seconds=stale_start_s))
            rows = await self._pool.fetch(_OVERDUE, now)
        return [(row["conversation_id"], row["demo_id"]) for row in rows]

    async def started_here(self, conversation_id: str) -> bool:
        if "\x00" in conversation_id:
            return False
        async with translate_errors():
            return bool(
                await self._pool.fetchval(
                    "select exists (select 1 from agent_conversations where conversation_id = $1)",
                    conversation_id,
                )
            )
