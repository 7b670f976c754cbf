"""DeliveryLedger on Postgres: webhook idempotency in the webhook_events table.

Each dedupe key is claimed atomically (`INSERT … ON CONFLICT`, never check-then-insert), so a repeated
delivery answers `duplicate` and sends nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from demo_relay.adapters.postgres.pool import translate_errors
from demo_relay.domain.ports import ClaimResult, DeliveryRecord

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgPool
    from demo_relay.adapters.postgres.write_behind import WriteBehind

DEFAULT_LEASE_S = 120.0
MAX_ERROR_CHARS = 500
PROCESSING = "processing"

# The claim is this one statement, never check-then-insert: Postgres serialises concurrent inserts of one
# key on its primary key, and the loser re-evaluates the DO UPDATE's WHERE against the winner's committed
# row. So of any number of simultaneous deliveries exactly one gets a row back.
# An existing key is claimed again only when
#   - its last delivery failed: `fail` records an error (a failure is recognised by that error, not by a
#     list of success statuses, so a success status added later can never become re-deliverable), or
#   - it is still 'processing' after the lease: the process that claimed it died mid-way.
_CLAIM = """
insert into webhook_events as e (dedupe_key, event_type, conversation_id, status, payload)
values ($1, $2, $3, 'processing', $4::jsonb)
on conflict (dedupe_key) do update
set status = 'processing',
    attempts = e.attempts + 1,
    claimed_at = now(),
    completed_at = null,
    error = null,
    event_type = excluded.event_type,
    conversation_id = excluded.conversation_id,
    payload = excluded.payload
where (e.status <> 'processing' and e.error is not null)
   or (e.status = 'processing' and e.claimed_at < now() - make_interval(secs => $5))
returning e.attempts"""

_COMPLETE = """
update webhook_events set status = $2, completed_at = now(), error = null
where dedupe_key = $1"""

_FAIL = """
update webhook_events set status = $2, completed_at = now(), error = $3
where dedupe_key = $1"""


# In batches, so a large purge never holds a long lock or a long transaction against live deliveries.
PURGE_BATCH = 5000
_PURGE = """
delete from webhook_events
where dedupe_key in (
    select dedupe_key from webhook_events
    where coalesce(completed_at, claimed_at) < $1
      -- a claim still in flight (within its lease) is never forgotten: its retry must stay a duplicate
      and (status <> 'processing' or claimed_at < now() - make_interval(secs => $3))
    limit $2
)"""


class AsyncpgDeliveryLedger:
    """Implements the DeliveryLedger port.

    `lease_s`: how long a claim may stay 'processing' before another delivery of the same key may take it
    over. Longer than any real delivery (a few seconds), short enough that Tavus's retries can succeed."""

    def __init__(
        self, pool: PgPool, lease_s: float = DEFAULT_LEASE_S, writes: WriteBehind | None = None
    ) -> None:
        self._pool = pool
        self._lease_s = float(lease_s)
        self._writes = writes  # set: completions are written behind the answer (write_behind.py)

    async def claim(self, record: DeliveryRecord) -> ClaimResult:
        payload = None if record.payload is None else json.dumps(_jsonb_safe(record.payload), default=str)
        async with translate_errors():
            attempts = await self._pool.fetchval(
                _CLAIM,
                _text(record.dedupe_key),
                _text(record.event_type),
                None if record.conversation_id is None else _text(record.conversation_id),
                payload,
                self._lease_s,
            )
        return ClaimResult.DUPLICATE if attempts is None else ClaimResult.CLAIMED

    async def complete(self, dedupe_key: str, status: str) -> None:
        if self._writes is not None:
            self._writes.complete(_text(dedupe_key), _text(status))
            return
        async with translate_errors():
            await self._pool.execute(_COMPLETE, _text(dedupe_key), _text(status))

    async def purge(self, before: datetime) -> int:
        removed = 0
        while True:
            async with translate_errors():
                status = await self._pool.execute(_PURGE, before, PURGE_BATCH, self._lease_s)
            batch = int(status.split()[-1])  # "DELETE <n>"
            removed += batch
            if batch < PURGE_BATCH:
                return removed

    async def fail(self, dedupe_key: str, status: str, error: str) -> None:
        # Never store NULL: a NULL error would make the failure look like a success (see _CLAIM).
        message = _text(error or status)[:MAX_ERROR_CHARS]
        async with translate_errors():
            await self._pool.execute(_FAIL, _text(dedupe_key), _text(status), message)


def _text(value: str) -> str:
    """Postgres text cannot hold NUL, which JSON strings (tool_call_id, …) may: replace it, so such a
    delivery is recorded instead of failing with a database error."""
    return value.replace("\x00", "\ufffd")


def _jsonb_safe(value: Any) -> Any:
    """`value` with NUL replaced in every string: jsonb rejects \\u0000 although JSON allows it."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Mapping):
        return {_text(str(k)): _jsonb_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonb_safe(v) for v in value]
    return value
