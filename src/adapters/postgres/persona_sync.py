"""PersonaSyncQueue on Postgres: the sync state lives on the demo row (migration …_tavus_integration.sql),
made due by triggers with every change of titles, name or persona. Workers take due demos with a lease
(`FOR UPDATE SKIP LOCKED`, then a lease time), so several instances share the work and a worker that dies
mid-attempt only delays its demos by the lease."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from demo_relay.adapters.postgres.pool import translate_errors
from demo_relay.domain.ports import SyncTask

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgPool

_TASK_COLUMNS = (
    "d.id::text as demo_id, d.tavus_sync_version as version, d.tavus_sync_attempts as attempts,"
    " d.tavus_synced_persona_id as synced_persona_id"
)

_TAKE_DUE = f"""
update demos d
set tavus_sync_lease_until = $1::timestamptz + make_interval(secs => $3)
where d.id in (
    select id from demos
    where tavus_sync_state <> 'synced' and tavus_sync_due_at <= $1
      and (tavus_sync_lease_until is null or tavus_sync_lease_until <= $1)
    order by tavus_sync_due_at
    limit $2
    for update skip locked)
returning {_TASK_COLUMNS}"""  # noqa: S608 (constants only)

# "Sync now": due or not, unless another worker holds the lease.
_TAKE_ONE = f"""
update demos d
set tavus_sync_lease_until = $2::timestamptz + make_interval(secs => $3)
where d.id = $1 and (d.tavus_sync_lease_until is null or d.tavus_sync_lease_until <= $2)
returning {_TASK_COLUMNS}"""  # noqa: S608 (constants only)

# Synced only if nothing changed since the task was taken; either way the lease is given back and the
# persona the tool now sits on is remembered.
_SUCCEEDED = """
update demos
set tavus_sync_state = case when tavus_sync_version = $2 then 'synced' else tavus_sync_state end,
    tavus_synced_at = case when tavus_sync_version = $2 then $3 else tavus_synced_at end,
    tavus_sync_error = case when tavus_sync_version = $2 then null else tavus_sync_error end,
    tavus_sync_attempts = case when tavus_sync_version = $2 then 0 else tavus_sync_attempts end,
    tavus_synced_persona_id = $4,
    tavus_sync_lease_until = null
where id = $1"""

# A change since the task was taken made the demo due again at once: that stands.
_FAILED = """
update demos
set tavus_sync_state = case when tavus_sync_version = $2 then 'failed' else tavus_sync_state end,
    tavus_sync_error = case when tavus_sync_version = $2 then $3 else tavus_sync_error end,
    tavus_sync_attempts = case when tavus_sync_version = $2 then tavus_sync_attempts + 1
                               else tavus_sync_attempts end,
    tavus_sync_due_at = case when tavus_sync_version = $2 then $4 else tavus_sync_due_at end,
    tavus_sync_lease_until = null
where id = $1"""

MAX_ERROR_CHARS = 500


def _task(row: asyncpg.Record) -> SyncTask:
    return SyncTask(row["demo_id"], row["version"], row["attempts"], row["synced_persona_id"])


class AsyncpgPersonaSyncQueue:
    """Implements the PersonaSyncQueue port."""

    def __init__(self, pool: PgPool) -> None:
        self._pool = pool

    async def take_due(self, now: datetime, limit: int, lease_s: float) -> Sequence[SyncTask]:
        async with translate_errors():
            rows = await self._pool.fetch(_TAKE_DUE, now, limit, lease_s)
        return [_task(row) for row in rows]

    async def take(self, demo_id: str, now: datetime, lease_s: float) -> SyncTask | None:
        try:
            key = uuid.UUID(demo_id)
        except ValueError:
            return None
        async with translate_errors():
            row = await self._pool.fetchrow(_TAKE_ONE, key, now, lease_s)
        return None if row is None else _task(row)

    async def succeeded(self, task: SyncTask, persona_id: str | None, at: datetime) -> None:
        async with translate_errors():
            await self._pool.execute(_SUCCEEDED, uuid.UUID(task.demo_id), task.version, at, persona_id)

    async def failed(self, task: SyncTask, error: str, retry_at: datetime) -> None:
        async with translate_errors():
            await self._pool.execute(
                _FAILED, uuid.UUID(task.demo_id), task.version, error[:MAX_ERROR_CHARS], retry_at
            )
