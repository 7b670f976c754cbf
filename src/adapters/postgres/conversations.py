"""ConversationDirectory on Postgres: which demo a Tavus conversation belongs to."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import asyncpg

from demo_relay.adapters.postgres.pool import translate_errors
from demo_relay.domain.errors import ConversationConflict, ConversationEnded, UnknownDemo

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgPool

# Registering again for the same demo (a page reload) keeps it and takes a new URL; for another demo nothing
# changes and no row comes back: a conversation must never be divertible to another demo's channel. An ended
# conversation stays ended (Tavus never restarts one) and keeps its URL. One statement, so two racing
# registrations can't both win.
_REGISTER = """
insert into conversations as c (conversation_id, demo_id, conversation_url)
values ($1, $2, $3)
on conflict (conversation_id) do update
set conversation_url = case when c.status = 'ended' then c.conversation_url
                            else coalesce(excluded.conversation_url, c.conversation_url) end
where c.demo_id = excluded.demo_id
returning status"""

# Ending twice keeps the first end time; the demo id is returned either way so the caller can notify.
_END = """
update conversations
set status = 'ended', ended_at = coalesce(ended_at, now())
where conversation_id = $1
returning demo_id::text"""


# The end, and whether this statement made it: a row lock serialises two racing ends, and the second sees
# the first's status ('ended') in `was`.
_END_ONCE = """
with was as (select conversation_id, status from conversations where conversation_id = $1 for update)
update conversations c
set status = 'ended', ended_at = coalesce(c.ended_at, now())
from was
where c.conversation_id = was.conversation_id
returning c.demo_id::text, was.status <> 'ended' as newly"""


class AsyncpgConversationDirectory:
    """Implements the ConversationDirectory port."""

    def __init__(self, pool: PgPool) -> None:
        self._pool = pool

    async def register(self, conversation_id: str, demo_id: str, conversation_url: str | None) -> None:
        """Raises UnknownDemo when `demo_id` names no demo (not a UUID, or deleted meanwhile), and
        ConversationConflict when the conversation belongs to another demo."""
        try:
            key = uuid.UUID(demo_id)
        except ValueError:
            raise UnknownDemo("no demo with that id", demo_id=demo_id) from None
        try:
            async with translate_errors():
                status = await self._pool.fetchval(_REGISTER, conversation_id, key, conversation_url)
        except asyncpg.ForeignKeyViolationError:
            raise UnknownDemo("no demo with that id", demo_id=demo_id) from None
        if status is None:
            raise ConversationConflict(
                "this conversation is registered to another demo", conversation_id=conversation_id
            )
        if status == "ended":
            raise ConversationEnded("this conversation has ended", conversation_id=conversation_id)

    async def demo_for(self, conversation_id: str) -> str | None:
        """The demo of a registered conversation, ended or not: events that arrive after the end
        (transcripts, recordings) still belong to it."""
        if "\x00" in conversation_id:  # Postgres text cannot hold NUL, so no such conversation exists
            return None
        async with translate_errors():
            demo_id: str | None = await self._pool.fetchval(
                "select demo_id::text from conversations where conversation_id = $1", conversation_id
            )
        return demo_id

    async def is_ended(self, conversation_id: str) -> bool:
        if "\x00" in conversation_id:
            return False
        async with translate_errors():
            return bool(
                await self._pool.fetchval(
                    "select status = 'ended' from conversations where conversation_id = $1", conversation_id
                )
            )

    async def end(self, conversation_id: str) -> str | None:
        if "\x00" in conversation_id:
            return None
        async with translate_errors():
            demo_id: str | None = await self._pool.fetchval(_END, conversation_id)
        return demo_id

    async def end_once(self, conversation_id: str) -> tuple[str | None, bool]:
        if "\x00" in conversation_id:
            return None, False
        async with translate_errors():
            row = await self._pool.fetchrow(_END_ONCE, conversation_id)
        return (None, False) if row is None else (row["demo_id"], bool(row["newly"]))
