"""What a demo's owners do to it (DESIGN §11): create, change and delete demos; rename and delete videos
(adding one is AddVideo); see its conversations with what played. Deletes clean up: a deleted video's
object leaves the store, a deleted demo takes its videos' objects, conversations and plays with it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from demo_relay.domain.errors import StorageUnavailable, UnknownDemo, UnknownVideo
from demo_relay.domain.models import ConversationHistory, Demo, DemoChanges, DemoVideo
from demo_relay.domain.ports import CatalogEditor, DemoCatalog, PlayHistory, VideoStore

log = logging.getLogger(__name__)


@dataclass
class ManageDemos:
    catalog: DemoCatalog
    editor: CatalogEditor
    store: VideoStore
    history: PlayHistory

    async def create(self, name: str, changes: DemoChanges | None = None) -> Demo:
        return await self.editor.create_demo(name, changes=changes)

    async def update(self, demo_id: str, changes: DemoChanges) -> Demo:
        demo = await self.editor.update_demo(demo_id, changes)
        if demo is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        return demo

    async def delete(self, demo_id: str) -> None:
        paths = await self.editor.delete_demo(demo_id)
        if paths is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        for path in paths:
            await _remove(self.store, path)

    async def conversations(self, demo_id: str) -> Sequence[ConversationHistory]:
        if await self.catalog.get_demo(demo_id) is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        return await self.history.conversations(demo_id)

    async def rename_video(self, demo_id: str, video_id: str, title: str) -> DemoVideo:
        video = await self.editor.rename_video(demo_id, video_id, title)
        if video is None:
            raise await self._missing(demo_id, video_id)
        return video

    async def delete_video(self, demo_id: str, video_id: str) -> None:
        video = await self.editor.delete_video(demo_id, video_id)
        if video is None:
            raise await self._missing(demo_id, video_id)
        await _remove(self.store, video.storage_path)

    async def _missing(self, demo_id: str, video_id: str) -> UnknownDemo | UnknownVideo:
        if await self.catalog.get_demo(demo_id) is None:
            return UnknownDemo("no demo with that id", demo_id=demo_id)
        return UnknownVideo("the demo has no video with that id", video_id=video_id)


async def _remove(store: VideoStore, path: str) -> None:
    """The catalog no longer names the object, so nobody is sent to it; a store that is down keeps an
    orphan, said in our log (the owner's delete has happened and is not undone by it)."""
    try:
        await store.remove(path)
    except StorageUnavailable as exc:
        log.warning("video object %s could not be removed from the store: %s", path, exc)
