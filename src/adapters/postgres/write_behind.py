"""The writes a webhook's answer need not wait for, written behind it in batches.

A played delivery's completion (`webhook_events.status`) and its line in the owner's history
(`video_plays`) change nothing the answer or the page depend on: the claim already makes a repeat a
duplicate, and the frame is already on its way. So the hot path queues them and returns; one task writes
whatever has queued up, each kind in one statement (`unnest` of arrays), so under load a single round trip
carries many webhooks' writes, and with none waiting a write follows within a loop turn.

What it costs, deliberately: a write queued when the process dies is lost. A lost completion leaves the
claim 'processing' until its lease (120 s) ends, after which a retry of that delivery would play again (the
page drops the repeat by its event id); a lost history line is missing from "what played". On a clean stop
`close()` writes everything first. A write that fails (the database away) is retried with backoff, the queue
bounded meanwhile (beyond it new rows are not kept, logged). Reads of the history wait for what is queued
(`flush`), so an owner never reads a history older than what this instance already answered."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from demo_relay.adapters.postgres.pool import translate_errors

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.database import Database

log = logging.getLogger(__name__)

MAX_PENDING = 100_000
MAX_BACKOFF_S = 5.0

_COMPLETE_MANY = """
update webhook_events e set status = x.status, completed_at = now(), error = null
from unnest($1::text[], $2::text[]) as x(dedupe_key, status)
where e.dedupe_key = x.dedupe_key and e.status = 'processing'"""

# As plays.py's one-row insert: nothing when the demo was deleted meanwhile; a video deleted meanwhile keeps
# its title only.
_RECORD_MANY = """
insert into video_plays (event_id, demo_id, conversation_id, video_id, title, played_at)
select x.event_id, d.id, x.conversation_id, v.id, x.title, x.played_at
from unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[])
     as x(event_id, demo_id, conversation_id, video_id, title, played_at)
join demos d on d.id = x.demo_id
left join demo_videos v on v.id = x.video_id and v.demo_id = d.id
on conflict (event_id) do nothing"""


@dataclass(frozen=True, slots=True)
class Completion:
    dedupe_key: str
    status: str


@dataclass(frozen=True, slots=True)
class PlayLine:
    event_id: str
    demo_id: uuid.UUID
    conversation_id: str | None
    video_id: uuid.UUID
    title: str
    played_at: datetime


class WriteBehind:
    def __init__(self, database: Database, max_pending: int = MAX_PENDING) -> None:
        self._database = database
        self._max_pending = max_pending
        self._completions: deque[Completion] = deque()
        self._plays: deque[PlayLine] = deque()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # one writer at a time: the task, or a flush()
        self._task: asyncio.Task[None] | None = None
        self.written = 0  # rows written (tests, metrics)

    @property
    def pending(self) -> int:
        return len(self._completions) + len(self._plays)

    def complete(self, dedupe_key: str, status: str) -> None:
        self._queue(self._completions, Completion(dedupe_key, status))

    def record_play(self, line: PlayLine) -> None:
        self._queue(self._plays, line)

    def _queue(self, queue: deque[Completion] | deque[PlayLine], item: Completion | PlayLine) -> None:
        # Rows only ever join at the right and leave at the left once written (`flush` takes a batch by
        # count): so when full, the new row is the one not kept, never one a write in flight holds.
        if self.pending >= self._max_pending:
            log.warning(
                "write-behind queue full (%d rows, the database away?): not kept: %s", self.pending, item
            )
            return
        queue.append(item)  # type: ignore[arg-type]
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="write-behind")

    async def _run(self) -> None:
        backoff = 0.05
        while self.pending:
            self._wake.clear()
            try:
                await self.flush()
                backoff = 0.05
            except Exception:  # the database away: keep the rows, try again
                log.warning("write-behind: could not write %d rows; retrying", self.pending, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def flush(self) -> None:
        """Writes everything queued so far (raises when the database refuses; the rows stay queued)."""
        async with self._lock:
            completions, plays = list(self._completions), list(self._plays)
            if not completions and not plays:
                return
            async with translate_errors(), self._database.pool.acquire() as conn:
                if completions:
                    await conn.execute(
                        _COMPLETE_MANY, [c.dedupe_key for c in completions], [c.status for c in completions]
                    )
                if plays:
                    await conn.execute(
                        _RECORD_MANY,
                        [p.event_id for p in plays],
                        [p.demo_id for p in plays],
                        [p.conversation_id for p in plays],
                        [p.video_id for p in plays],
                        [p.title for p in plays],
                        [p.played_at for p in plays],
                    )
            for _ in completions:
                self._completions.popleft()
            for _ in plays:
                self._plays.popleft()
            self.written += len(completions) + len(plays)

    async def close(self) -> None:
        """A clean stop: write what is queued (once; a database that is away loses it, logged)."""
        try:
            await self.flush()
        except Exception:
            log.warning("write-behind: %d rows not written at shutdown", self.pending, exc_info=True)
        if self._task is not None and not self._task.done():
            self._task.cancel()
