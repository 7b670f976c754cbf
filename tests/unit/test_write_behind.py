"""The writes behind the webhook's answer while the database is away: they stay queued, bounded, and a
full queue refuses the new row rather than one a write in flight may hold (so none written is lost, and none
is counted written that was not)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from demo_relay.adapters.postgres.write_behind import PlayLine, WriteBehind
from demo_relay.domain.errors import DatabaseUnavailable


class AwayDatabase:
    """A Database whose pool refuses every connection."""

    class _Pool:
        def acquire(self) -> Any:
            raise DatabaseUnavailable("database unavailable: OSError")

    pool = _Pool()


async def test_rows_wait_while_the_database_is_away_and_a_full_queue_refuses_new_ones() -> None:
    writes = WriteBehind(AwayDatabase(), max_pending=3)  # type: ignore[arg-type]
    writes.complete("a", "played")
    writes.complete("b", "played")
    writes.record_play(PlayLine("e1", uuid.uuid4(), "c1", uuid.uuid4(), "T", datetime.now(UTC)))
    writes.complete("d", "played")  # the fourth: not kept
    await asyncio.sleep(0.05)  # the writer tried and failed (and retries later)
    assert writes.pending == 3 and writes.written == 0
    assert [c.dedupe_key for c in writes._completions] == ["a", "b"]  # the oldest kept, in order
    await writes.close()  # a clean stop with the database still away: logged, nothing raised
