"""DemoCatalog on Postgres: demos, their videos, and title lookup (exact, then pg_trgm similarity)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import asyncpg

from demo_relay.adapters.postgres.pool import translate_errors
from demo_relay.domain.errors import AlreadyListed, InvalidRequest, TitleConflict
from demo_relay.domain.models import Demo, DemoChanges, DemoVideo, PersonaSync, SyncState, TitleMatch
from demo_relay.domain.titles import checked_name, checked_video

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgPool

DEFAULT_TITLE_MATCH_THRESHOLD = 0.3  # pg_trgm's own default for the % operator
SUGGESTIONS = 3


def normalised(column_or_param: str) -> str:
    """The SQL title key: whitespace runs → one space, trimmed, lower-cased. Must stay identical to the
    expression of the unique index demo_videos_demo_title_key (migrations/…_initial_schema.sql), or exact
    lookups stop using it."""
    return f"lower(btrim(regexp_replace({column_or_param}, '\\s+', ' ', 'g')))"


_VIDEO_COLUMNS = (
    "v.id::text as id, v.demo_id::text as demo_id, v.title, v.storage_path, v.duration_s, v.size_bytes,"
    " v.content_type"
)
_DEMO_COLUMNS = (
    "d.id::text as d_id, d.name as d_name, d.public_start as d_public_start,"
    " d.tavus_persona_id as d_persona, d.tavus_replica_id as d_replica,"
    " d.tavus_sync_state as d_sync_state, d.tavus_synced_at as d_synced_at,"
    " d.tavus_sync_error as d_sync_error"
)

# Demos with their videos in one query (LEFT JOIN: a demo without videos is listed too), never N+1.
_DEMOS_WITH_VIDEOS = f"""
select {_DEMO_COLUMNS}, {_VIDEO_COLUMNS}
from demos d
left join demo_videos v on v.demo_id = d.id
{{where}}
order by d.created_at, d.name, d.id, v.created_at, v.title, v.id"""  # noqa: S608 (constants only)
_ALL_DEMOS = _DEMOS_WITH_VIDEOS.format(where="")
_ONE_DEMO = _DEMOS_WITH_VIDEOS.format(where="where d.id = $1")

# The demo's videos best first: the exact match, then by similarity, ties by title. Three rows are enough
# for both answers (the match is the first row; otherwise they are the suggestions).
_RANKED_VIDEOS = f"""
select {_VIDEO_COLUMNS},
       {normalised("v.title")} = {normalised("$2")} as exact,
       similarity({normalised("v.title")}, {normalised("$2")}) >= $3::real as similar_enough
from demo_videos v
where v.demo_id = $1::uuid
order by exact desc, similarity({normalised("v.title")}, {normalised("$2")}) desc, v.title, v.id
limit {SUGGESTIONS}"""  # noqa: S608 (constants only; values are parameters)

_INSERT_VIDEO = f"""
insert into demo_videos as v (demo_id, title, storage_path, duration_s, size_bytes, content_type)
values ($1, $2, $3, $4, $5, $6)
returning {_VIDEO_COLUMNS}"""  # noqa: S608 (constants only)

_INSERT_DEMO = f"""
insert into demos as d (id, name, public_start, tavus_persona_id, tavus_replica_id)
values (coalesce($1::uuid, gen_random_uuid()), $2, coalesce($3, false), $4, $5)
returning {_DEMO_COLUMNS}"""  # noqa: S608 (constants only)

# $3..$5 null: unchanged; $6/$7: clear the persona / replica.
_UPDATE_DEMO = f"""
update demos as d
set name = coalesce($2, d.name),
    public_start = coalesce($3, d.public_start),
    tavus_persona_id = case when $6 then null else coalesce($4, d.tavus_persona_id) end,
    tavus_replica_id = case when $7 then null else coalesce($5, d.tavus_replica_id) end
where d.id = $1
returning {_DEMO_COLUMNS}"""  # noqa: S608 (constants only)

# The paths of its videos, read and deleted in one statement; conversations and plays go by cascade.
_DELETE_DEMO = """
with gone as (delete from demos where id = $1 returning id),
     videos as (select storage_path from demo_videos where demo_id in (select id from gone))
select (select count(*) from gone) as deleted, coalesce(array_agg(storage_path), '{}') as paths from videos"""

_RENAME_VIDEO = f"""
update demo_videos as v set title = $3 where v.demo_id = $1 and v.id = $2
returning {_VIDEO_COLUMNS}"""  # noqa: S608 (constants only)

_DELETE_VIDEO = f"""
delete from demo_videos as v where v.demo_id = $1 and v.id = $2
returning {_VIDEO_COLUMNS}"""  # noqa: S608 (constants only)


class AsyncpgDemoCatalog:
    """Implements the DemoCatalog port, plus the writes used by seeding and the CLI."""

    def __init__(self, pool: PgPool, title_match_threshold: float = DEFAULT_TITLE_MATCH_THRESHOLD) -> None:
        self._pool = pool
        self._threshold = title_match_threshold

    # --- DemoCatalog ----------------------------------------------------------------------------

    async def list_demos(self) -> Sequence[Demo]:
        async with translate_errors():
            rows = await self._pool.fetch(_ALL_DEMOS)
        return _group(rows)

    async def get_demo(self, demo_id: str) -> Demo | None:
        key = _uuid(demo_id)
        if key is None:  # not a UUID: cannot name a demo (and must not reach Postgres as a failing cast)
            return None
        async with translate_errors():
            rows = await self._pool.fetch(_ONE_DEMO, key)
        demos = _group(rows)
        return demos[0] if demos else None

    async def find_video(self, demo_id: str, title: str) -> TitleMatch:
        key = _uuid(demo_id)
        if key is None:
            return TitleMatch(None, ())
        async with translate_errors():
            # NUL (legal in JSON, not in Postgres text) would be a database error: it is whitespace here.
            rows = await self._pool.fetch(_RANKED_VIDEOS, key, title.replace("\x00", " "), self._threshold)
        if rows and (rows[0]["exact"] or rows[0]["similar_enough"]):
            return TitleMatch(_video(rows[0]))
        return TitleMatch(None, tuple(row["title"] for row in rows))

    # --- writes (seeding, CLI) ------------------------------------------------------------------

    async def create_demo(
        self, name: str, demo_id: str | None = None, changes: DemoChanges | None = None
    ) -> Demo:
        name = checked_name(name)
        key: uuid.UUID | None = None
        if demo_id is not None:
            key = _uuid(demo_id)
            if key is None:
                raise InvalidRequest("a demo id must be a UUID", field="demo_id", demo_id=demo_id)
        changes = changes or DemoChanges()
        try:
            async with translate_errors():
                row = await self._pool.fetchrow(
                    _INSERT_DEMO,
                    key,
                    name,
                    changes.public_start,
                    changes.tavus_persona_id,
                    changes.tavus_replica_id,
                )
        except asyncpg.UniqueViolationError:
            raise InvalidRequest("a demo with this id already exists", demo_id=demo_id) from None
        assert row is not None  # INSERT … RETURNING always returns the row
        return _demo(row)

    async def update_demo(self, demo_id: str, changes: DemoChanges) -> Demo | None:
        key = _uuid(demo_id)
        if key is None:
            return None
        name = None if changes.name is None else checked_name(changes.name)
        async with translate_errors():
            row = await self._pool.fetchrow(
                _UPDATE_DEMO,
                key,
                name,
                changes.public_start,
                changes.tavus_persona_id,
                changes.tavus_replica_id,
                changes.clear_persona,
                changes.clear_replica,
            )
        return None if row is None else await self.get_demo(row["d_id"])

    async def delete_demo(self, demo_id: str) -> tuple[str, ...] | None:
        key = _uuid(demo_id)
        if key is None:
            return None
        async with translate_errors():
            row = await self._pool.fetchrow(_DELETE_DEMO, key)
        if row is None or not row["deleted"]:
            return None
        return tuple(row["paths"])

    async def add_video(
        self,
        demo_id: str,
        title: str,
        storage_path: str,
        duration_s: float | None = None,
        size_bytes: int | None = None,
        content_type: str | None = None,
    ) -> DemoVideo:
        """Raises InvalidRequest for an unknown demo, a blank title or path, a non-positive duration, or a
        title the demo already has (compared as the webhook compares them: case and spacing ignored)."""
        key = _uuid(demo_id)
        if key is None:
            raise InvalidRequest("unknown demo", field="demo_id", demo_id=demo_id)
        title = checked_video(title, storage_path, duration_s)  # uniqueness itself is the index's
        try:
            async with translate_errors():
                row = await self._pool.fetchrow(
                    _INSERT_VIDEO, key, title, storage_path, duration_s, size_bytes, content_type
                )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "demo_videos_storage_path_key":
                raise AlreadyListed(storage_path) from None
            raise _title_conflict(title) from None
        except asyncpg.ForeignKeyViolationError:
            raise InvalidRequest("unknown demo", field="demo_id", demo_id=demo_id) from None
        assert row is not None
        return _video(row)

    async def rename_video(self, demo_id: str, video_id: str, title: str) -> DemoVideo | None:
        demo_key, video_key = _uuid(demo_id), _uuid(video_id)
        title = checked_video(title, "-", None)
        if demo_key is None or video_key is None:
            return None
        try:
            async with translate_errors():
                row = await self._pool.fetchrow(_RENAME_VIDEO, demo_key, video_key, title)
        except asyncpg.UniqueViolationError:
            raise _title_conflict(title) from None
        return None if row is None else _video(row)

    async def delete_video(self, demo_id: str, video_id: str) -> DemoVideo | None:
        demo_key, video_key = _uuid(demo_id), _uuid(video_id)
        if demo_key is None or video_key is None:
            return None
        async with translate_errors():
            row = await self._pool.fetchrow(_DELETE_VIDEO, demo_key, video_key)
        return None if row is None else _video(row)

    async def is_empty(self) -> bool:
        """True when there is no demo at all (`serve` seeds the sample demo then)."""
        async with translate_errors():
            return bool(await self._pool.fetchval("select not exists (select 1 from demos)"))


def _title_conflict(title: str) -> TitleConflict:
    return TitleConflict(f"the demo already has a video titled {title!r}", field="title", title=title)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def _video(row: asyncpg.Record) -> DemoVideo:
    return DemoVideo(
        id=row["id"],
        demo_id=row["demo_id"],
        title=row["title"],
        storage_path=row["storage_path"],
        duration_s=row["duration_s"],
        size_bytes=row["size_bytes"],
        content_type=row["content_type"],
    )


def _demo(row: asyncpg.Record, videos: tuple[DemoVideo, ...] = ()) -> Demo:
    return Demo(
        id=row["d_id"],
        name=row["d_name"],
        videos=videos,
        public_start=row["d_public_start"],
        tavus_persona_id=row["d_persona"],
        tavus_replica_id=row["d_replica"],
        tavus_sync=PersonaSync(SyncState(row["d_sync_state"]), row["d_synced_at"], row["d_sync_error"]),
    )


def _group(rows: Iterable[asyncpg.Record]) -> list[Demo]:
    """Folds the joined rows (ordered by demo, then video) into demos, keeping both orders."""
    first: dict[str, asyncpg.Record] = {}
    videos: dict[str, list[DemoVideo]] = {}
    for row in rows:
        demo_id = row["d_id"]
        if demo_id not in first:
            first[demo_id] = row
            videos[demo_id] = []
        if row["id"] is not None:  # the LEFT JOIN's placeholder row of a demo without videos
            videos[demo_id].append(_video(row))
    return [_demo(row, tuple(videos[i])) for i, row in first.items()]
