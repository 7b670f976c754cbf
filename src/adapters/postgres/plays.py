"""PlayHistory on Postgres: `video_plays`, one row per channel event id, and the owner's view of a demo's
conversations with what each one played."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from demo_relay.adapters.postgres.pool import translate_errors
from demo_relay.adapters.postgres.write_behind import PlayLine
from demo_relay.domain.models import ConversationHistory, DemoVideo, Play

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgPool
    from demo_relay.adapters.postgres.write_behind import WriteBehind

_RECORD = """
insert into video_plays (event_id, demo_id, conversation_id, video_id, title, played_at)
select $1, $2, $3, v.id, $5, $6
from demos d left join demo_videos v on v.id = $4 and v.demo_id = d.id
where d.id = $2
on conflict (event_id) do nothing"""

# The newest conversations first, each with its plays in order, in one query (plays aggregated per row).
_CONVERSATIONS = """
select c.conversation_id, c.status, c.created_at, c.ended_at,
       coalesce(
           (select json_agg(json_build_object('video_id', p.video_id::text, 'title', p.title,
                                              'played_at', p.played_at) order by p.played_at, p.event_id)
            from video_plays p
            where p.demo_id = c.demo_id and p.conversation_id = c.conversation_id),
           '[]') as plays
from conversations c
where c.demo_id = $1
order by c.created_at desc, c.conversation_id
limit $2"""


class AsyncpgPlayHistory:
    """Implements the PlayHistory port."""

    def __init__(self, pool: PgPool, writes: WriteBehind | None = None) -> None:
        self._pool = pool
        self._writes = writes  # set: play lines are written behind the answer (write_behind.py)

    async def record(
        self, event_id: str, demo_id: str, conversation_id: str | None, video: DemoVideo, played_at: datetime
    ) -> None:
        """Nothing when the demo was deleted meanwhile; a video deleted meanwhile keeps its title only."""
        conversation = conversation_id.replace("\x00", "") if conversation_id else None
        if self._writes is not None:
            line = PlayLine(
                event_id, uuid.UUID(demo_id), conversation, uuid.UUID(video.id), video.title, played_at
            )
            self._writes.record_play(line)
            return
        async with translate_errors():
            await self._pool.execute(
                _RECORD,
                event_id,
                uuid.UUID(demo_id),
                conversation,
                uuid.UUID(video.id),
                video.title,
                played_at,
            )

    async def conversations(self, demo_id: str, limit: int = 50) -> Sequence[ConversationHistory]:
        if self._writes is not None:
            await self._writes.flush()  # what this instance already answered is in the history it shows
        async with translate_errors():
            rows = await self._pool.fetch(_CONVERSATIONS, uuid.UUID(demo_id), limit)
        return [
            ConversationHistory(
                conversation_id=row["conversation_id"],
                status=row["status"],
                created_at=row["created_at"],
                ended_at=row["ended_at"],
                plays=tuple(
                    Play(p["video_id"], p["title"], datetime.fromisoformat(p["played_at"]))
                    for p in json.loads(row["plays"])
                ),
            )
            for row in rows
        ]
