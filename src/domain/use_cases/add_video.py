"""Adding a video file to a demo (the owner API's upload and `demo-relay add-video`, one code path): the
file is judged by its bytes (MP4, QuickTime or WebM, else UnsupportedMediaType) and its size (at most
`max_bytes`, else VideoTooLarge), its duration read from it; then it goes into the video store under a
fresh path, then into the catalog. Whatever is refused, at whichever step, leaves no object behind."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from demo_relay.domain.errors import UnknownDemo, UnsupportedMediaType, VideoTooLarge
from demo_relay.domain.models import DemoVideo
from demo_relay.domain.ports import CatalogEditor, DemoCatalog, MediaProbe, VideoStore
from demo_relay.domain.titles import checked_video

DEFAULT_MAX_VIDEO_BYTES = 1024**3
_EXTENSION = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class AddVideo:
    catalog: DemoCatalog
    editor: CatalogEditor
    store: VideoStore
    probe: MediaProbe
    max_bytes: int = DEFAULT_MAX_VIDEO_BYTES

    async def execute(self, demo_id: str, title: str, file: Path) -> DemoVideo:
        if await self.catalog.get_demo(demo_id) is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        # A fresh prefix per video: a title or file name used twice never overwrites another's object.
        title = checked_video(title, "-", None)
        size = (await asyncio.to_thread(file.stat)).st_size
        if size > self.max_bytes:
            raise VideoTooLarge(f"a video has at most {self.max_bytes} bytes", max_bytes=self.max_bytes)
        info = await asyncio.to_thread(self.probe.inspect, file)
        if info is None:
            raise UnsupportedMediaType("the file is not an MP4, QuickTime or WebM video")
        slug = _UNSAFE.sub("-", title.lower()).strip("-")[:48] or "video"
        storage_path = f"{demo_id}/{uuid.uuid4().hex[:12]}-{slug}.{_EXTENSION[info.content_type]}"
        await self.store.put(file, storage_path, info.content_type)
        try:
            return await self.editor.add_video(
                demo_id, title, storage_path, info.duration_s, size, info.content_type
            )
        except BaseException:
            await self.store.remove(storage_path)
            raise
