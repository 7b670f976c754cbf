"""In-process copies of what the webhook's hot path reads, so a play_video costs one round trip to Postgres
(the dedupe claim) instead of three.

- a conversation's demo (`ConversationDirectory.demo_for`): a registered conversation never changes demo;
  its row goes only with its demo;
- a demo's videos by title key (`DemoCatalog.find_video`): an exact title is answered here; anything else
  (a near miss, suggestions) still asks Postgres, whose pg_trgm ranks them.

Kept true across instances by NOTIFY: triggers on demos, demo_videos and conversations send the demo's id
on `demo_relay_catalog` at commit (migration …_catalog_notify.sql), whatever wrote it (any instance, the CLI,
psql); `CatalogCache.run` LISTENs on a connection of its own and drops that demo. The copies are used only
while that connection is up: before it is, after it drops and until it is back, every read goes to Postgres,
and the copies start empty again (a change missed while deaf is never served). A read that raced an
invalidation (or the connection going up) is not kept (a generation number). This instance's own writes
drop the demo at once, without waiting for the notification.

What is left: another instance's change reaches this one's copies a NOTIFY's delivery later (about a
millisecond on one network), as it would reach a read issued at that moment."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from demo_relay.adapters.postgres.listen import listening
from demo_relay.adapters.reconnecting import reconnecting
from demo_relay.domain.models import Demo, DemoChanges, DemoVideo, TitleMatch
from demo_relay.domain.titles import title_key

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
    from demo_relay.adapters.postgres.conversations import AsyncpgConversationDirectory
    from demo_relay.adapters.postgres.database import Database

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "demo_relay_catalog"
LISTEN_APPLICATION_NAME = "demo-relay-catalog"
MAX_CONVERSATIONS = 100_000  # beyond this the copy of conversations starts again (memory stays bounded)
MAX_DEMOS = 10_000


class CatalogCache:
    def __init__(self, database: Database, *, keepalive_s: float = 5.0, max_backoff_s: float = 5.0) -> None:
        self._database = database
        self._keepalive_s = keepalive_s
        self._max_backoff_s = max_backoff_s
        self._titles: dict[
            str, dict[str, DemoVideo | None]
        ] = {}  # demo → title key → video (None: ambiguous)
        self._demo_of: dict[str, str] = {}  # conversation → demo
        self._conversations_of: dict[str, set[str]] = {}  # demo → its conversations in _demo_of
        self._generation = 0
        self.live = False  # the LISTEN connection is up: the copies may be used
        self.hits = 0
        self.misses = 0

    # --- the copies ---------------------------------------------------------------------------------

    def invalidate(self, demo_id: str | None = None) -> None:
        """Forgets one demo (its videos and its conversations), or everything."""
        self._generation += 1
        if demo_id is None:
            self._titles.clear()
            self._demo_of.clear()
            self._conversations_of.clear()
            return
        key = _key(demo_id) or demo_id
        self._titles.pop(key, None)
        for conversation in self._conversations_of.pop(key, ()):
            self._demo_of.pop(conversation, None)

    def generation(self) -> int:
        return self._generation

    def titles(self, demo_id: str) -> dict[str, DemoVideo | None] | None:
        key = _key(demo_id)
        return self._titles.get(key) if self.live and key is not None else None

    def keep_titles(self, demo_id: str, videos: Sequence[DemoVideo], generation: int) -> None:
        demo_key = _key(demo_id)
        if demo_key is None or not self.live or generation != self._generation:
            return
        if len(self._titles) >= MAX_DEMOS:
            self._titles.clear()
        self._titles[demo_key] = title_index(videos)

    def demo_of(self, conversation_id: str) -> str | None:
        return self._demo_of.get(conversation_id) if self.live else None

    def keep_demo_of(self, conversation_id: str, demo_id: str, generation: int) -> None:
        if not self.live or generation != self._generation:
            return
        key = _key(demo_id)
        if key is None:
            return
        if len(self._demo_of) >= MAX_CONVERSATIONS:
            self._demo_of.clear()
            self._conversations_of.clear()
        self._demo_of[conversation_id] = key
        self._conversations_of.setdefault(key, set()).add(conversation_id)

    # --- the LISTEN connection ------------------------------------------------------------------------

    async def run(self) -> None:
        """Listens until cancelled, reconnecting with backoff; the copies are used only while it listens."""
        await reconnecting(self._listen_once, on_lost=self._lost, max_backoff_s=self._max_backoff_s)

    def _lost(self, error: Exception | None) -> None:
        if error is not None:  # the database away: serve from Postgres until it is back
            log.warning("catalog cache: LISTEN connection lost (%s); reading from Postgres meanwhile", error)
        self.live = False
        self.invalidate()

    async def _listen_once(self) -> None:
        if self._database.dsn is None:
            raise RuntimeError("the database is not open")
        async with listening(
            self._database.dsn, NOTIFY_CHANNEL, self._on_notify, LISTEN_APPLICATION_NAME
        ) as held:
            self.invalidate()  # whatever was read before this point may have missed a notification
            self.live = True
            try:
                await held.until_lost(self._keepalive_s)
            finally:
                self.live = False

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        self.invalidate(str(payload))


class CachedCatalog:
    """DemoCatalog and CatalogEditor: the Postgres catalog, with exact-title lookups from the copies."""

    def __init__(self, inner: AsyncpgDemoCatalog, cache: CatalogCache) -> None:
        self._inner = inner
        self._cache = cache

    async def list_demos(self) -> Sequence[Demo]:
        return await self._inner.list_demos()

    async def get_demo(self, demo_id: str) -> Demo | None:
        return await self._inner.get_demo(demo_id)

    async def find_video(self, demo_id: str, title: str) -> TitleMatch:
        titles = self._cache.titles(demo_id)
        if titles is None and self._cache.live:
            generation = self._cache.generation()
            demo = await self._inner.get_demo(demo_id)
            videos = demo.videos if demo is not None else ()
            self._cache.keep_titles(demo_id, videos, generation)
            titles = title_index(videos)
        video = titles.get(title_key(title)) if titles is not None else None
        if video is not None:
            self._cache.hits += 1
            return TitleMatch(video)
        self._cache.misses += 1
        return await self._inner.find_video(demo_id, title)  # not exact: Postgres ranks the near ones

    # --- CatalogEditor: Postgres, then this instance forgets the demo at once -------------------------

    async def create_demo(
        self, name: str, demo_id: str | None = None, changes: DemoChanges | None = None
    ) -> Demo:
        return await self._inner.create_demo(name, demo_id, changes)

    async def update_demo(self, demo_id: str, changes: DemoChanges) -> Demo | None:
        try:
            return await self._inner.update_demo(demo_id, changes)
        finally:
            self._cache.invalidate(demo_id)

    async def delete_demo(self, demo_id: str) -> tuple[str, ...] | None:
        try:
            return await self._inner.delete_demo(demo_id)
        finally:
            self._cache.invalidate(demo_id)

    async def add_video(
        self,
        demo_id: str,
        title: str,
        storage_path: str,
        duration_s: float | None = None,
        size_bytes: int | None = None,
        content_type: str | None = None,
    ) -> DemoVideo:
        try:
            return await self._inner.add_video(
                demo_id, title, storage_path, duration_s, size_bytes, content_type
            )
        finally:
            self._cache.invalidate(demo_id)

    async def rename_video(self, demo_id: str, video_id: str, title: str) -> DemoVideo | None:
        try:
            return await self._inner.rename_video(demo_id, video_id, title)
        finally:
            self._cache.invalidate(demo_id)

    async def delete_video(self, demo_id: str, video_id: str) -> DemoVideo | None:
        try:
            return await self._inner.delete_video(demo_id, video_id)
        finally:
            self._cache.invalidate(demo_id)

    async def is_empty(self) -> bool:
        return await self._inner.is_empty()

    def __getattr__(self, name: str) -> Any:  # the catalog's other methods (seeding, the CLI): Postgres
        return getattr(self._inner, name)


class CachedConversations:
    """ConversationDirectory: the Postgres directory, with a conversation's demo from the copies."""

    def __init__(self, inner: AsyncpgConversationDirectory, cache: CatalogCache) -> None:
        self._inner = inner
        self._cache = cache

    async def register(self, conversation_id: str, demo_id: str, conversation_url: str | None) -> None:
        await self._inner.register(conversation_id, demo_id, conversation_url)

    async def demo_for(self, conversation_id: str) -> str | None:
        known = self._cache.demo_of(conversation_id)
        if known is not None:
            return known
        generation = self._cache.generation()
        demo_id = await self._inner.demo_for(conversation_id)
        if demo_id is not None:  # never an absence: the conversation may be registered a moment later
            self._cache.keep_demo_of(conversation_id, demo_id, generation)
        return demo_id

    async def is_ended(self, conversation_id: str) -> bool:
        return await self._inner.is_ended(conversation_id)

    async def end(self, conversation_id: str) -> str | None:
        return await self._inner.end(conversation_id)

    async def end_once(self, conversation_id: str) -> tuple[str | None, bool]:
        return await self._inner.end_once(conversation_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def title_index(videos: Sequence[DemoVideo]) -> dict[str, DemoVideo | None]:
    """A demo's videos by title key; None where two share one (Python's and Postgres's case rules differ
    on a few letters): such a title is left to Postgres."""
    index: dict[str, DemoVideo | None] = {}
    for video in videos:
        key = title_key(video.title)
        index[key] = None if key in index else video
    return index


def _key(demo_id: str) -> str | None:
    """A demo id as Postgres spells it (what the notifications carry); None when it is not a UUID."""
    try:
        return str(uuid.UUID(demo_id))
    except ValueError:
        return None
