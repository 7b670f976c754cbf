"""DemoCatalog on Postgres: demos, their videos, and title lookup (exact, then pg_trgm similarity)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import asyncpg

from demo_relay.adapters.postgres.pool import translate_errors
from demo_relay.domain.errors import InvalidRequest
from demo_relay.domain.models import Demo, DemoVideo, TitleMatch
from demo_relay.domain.titles import checked_video

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgPool

DEFAULT_TITLE_MATCH_THRESHOLD = 0.3  # pg_trgm's own default for the % operator
SUGGESTIONS = 3


def normalised(column_or_param: str) -> str:
    """The SQL title key: whitespace runs → one space, trimmed, lower-cased. Must stay identical to the
    expression of the unique index demo_videos_demo_title_key (migrations/…_initial_schema.sql), or exact
    lookups stop using it."""
    return f"lower(btrim(regexp_replace({column_or_param}, '\\s+', ' ', 'g')))"


_VIDEO_COLUMNS = "v.id::text as id, v.demo_id::text as demo_id, v.title, v.storage_path, v.duration_s"

# Demos with their videos in one query (LEFT JOIN: a demo without videos is listed too), never N+1.
_DEMOS_WITH_VIDEOS = f"""
select d.id::text as d_id, d.name as d_name, {_VIDEO_COLUMNS}
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
insert into demo_videos as v (demo_id, title, storage_path, duration_s)
values ($1, $2, $3, $4)
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

    async def create_demo(self, name: str, demo_id: str | None = None) -> Demo:
        if not name.strip():
            raise InvalidRequest("a demo needs a name", field="name")
        key: uuid.UUID | None = None
        if demo_id is not None:
            key = _uuid(demo_id)
            if key is None:
                raise InvalidRequest("a demo id must be a UUID", field="demo_id", demo_id=demo_id)
        try:
            async with translate_errors():
                row = await self._pool.fetchrow(
                    "insert into demos (id, name) values (coalesce($1::uuid, gen_random_uuid()), $2)"
                    " returning id::text as id, name",
                    key,
                    name.strip(),
                )
        except asyncpg.UniqueViolationError:
            raise InvalidRequest("a demo with this id already exists", demo_id=demo_id) from None
        assert row is not None  # INSERT … RETURNING always returns the row
        return Demo(id=row["id"], name=row["name"])

    async def add_video(
        self, demo_id: str, title: str, storage_path: str, duration_s: float | None = None
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
                    _INSERT_VIDEO,
                    key,
                    title,
                    storage_path,
                    duration_s,
                )
        except asyncpg.UniqueViolationError:
            raise InvalidRequest(
                f"the demo already has a video titled {title!r}", field="title", demo_id=demo_id
            ) from None
        except asyncpg.ForeignKeyViolationError:
            raise InvalidRequest("unknown demo", field="demo_id", demo_id=demo_id) from None
        assert row is not None
        return _video(row)

    async def is_empty(self) -> bool:
        """True when there is no demo at all (`serve` seeds the sample demo then)."""
        async with translate_errors():
            return bool(await self._pool.fetchval("select not exists (select 1 from demos)"))


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
    )


def _group(rows: Iterable[asyncpg.Record]) -> list[Demo]:
    """Folds the joined rows (ordered by demo, then video) into demos, keeping both orders."""
    names: dict[str, str] = {}
    videos: dict[str, list[DemoVideo]] = {}
    for row in rows:
        demo_id = row["d_id"]
        if demo_id not in names:
            names[demo_id] = row["d_name"]
            videos[demo_id] = []
        if row["id"] is not None:  # the LEFT JOIN's placeholder row of a demo without videos
            videos[demo_id].append(_video(row))
    return [Demo(id=i, name=names[i], videos=tuple(videos[i])) for i in names]
