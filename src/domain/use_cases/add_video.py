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

from demo_relay.domain.errors import (
    AlreadyListed,
    InvalidRequest,
    UnknownDemo,
    UnsupportedMediaType,
    VideoTooLarge,
)
from demo_relay.domain.models import DemoVideo, MediaInfo, SignedUpload
from demo_relay.domain.ports import CatalogEditor, DemoCatalog, DirectUploads, MediaProbe, VideoStore
from demo_relay.domain.titles import checked_video

DEFAULT_MAX_VIDEO_BYTES = 1024**3
_EXTENSION = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
# What sign_upload names: only such paths may be adopted, so an owner can never list another video's object.
_DIRECT = re.compile(r"^(?P<demo>[0-9a-f-]{36})/upload-[0-9a-f]{24}-[a-z0-9-]{1,48}$")


@dataclass
class AddVideo:
    catalog: DemoCatalog
    editor: CatalogEditor
    store: VideoStore
    probe: MediaProbe
    max_bytes: int = DEFAULT_MAX_VIDEO_BYTES
    direct: DirectUploads | None = None  # a store browsers upload to directly (Supabase), else None

    async def execute(self, demo_id: str, title: str, file: Path, *, scratch: bool = False) -> DemoVideo:
        """`scratch`: `file` is a copy made for this call (an upload), which the store may take over."""
        if await self.catalog.get_demo(demo_id) is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        # A fresh prefix per video: a title or file name used twice never overwrites another's object.
        title = checked_video(title, "-", None)
        size, info = await self._judge(file)
        slug = _slug(title)
        storage_path = f"{demo_id}/{uuid.uuid4().hex[:12]}-{slug}.{_EXTENSION[info.content_type]}"
        await self.store.put(file, storage_path, info.content_type, consume=scratch)
        try:
            return await self.editor.add_video(
                demo_id, title, storage_path, info.duration_s, size, info.content_type
            )
        except BaseException:
            await self.store.remove(storage_path)
            raise

    async def sign_upload(self, demo_id: str, filename: str, size_bytes: int | None) -> SignedUpload:
        """Where the page uploads one file straight to the store; `adopt` lists it afterwards."""
        direct = self._direct()
        if await self.catalog.get_demo(demo_id) is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        if size_bytes is not None and size_bytes > self.max_bytes:
            raise VideoTooLarge(self.max_bytes)
        stem = filename.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return await direct.sign_upload(f"{demo_id}/upload-{uuid.uuid4().hex[:24]}-{_slug(stem)}")

    async def adopt(self, demo_id: str, title: str, storage_path: str) -> DemoVideo:
        """Lists an object the page uploaded with `sign_upload`, once its bytes pass the same checks as an
        upload through the service; an object that does not is removed."""
        direct = self._direct()
        demo = await self.catalog.get_demo(demo_id)
        if demo is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        title = checked_video(title, "-", None)
        match = _DIRECT.match(storage_path)
        if match is None or match["demo"] != demo_id:
            raise InvalidRequest("not a path this demo's upload URL named", field="path")
        if any(v.storage_path == storage_path for v in demo.videos):
            raise AlreadyListed(storage_path)  # a repeated "done": the object is that video's, keep it
        try:
            async with direct.fetched(storage_path, self.max_bytes) as copy:
                size, info = await self._judge(copy)
            return await self.editor.add_video(
                demo_id, title, storage_path, info.duration_s, size, info.content_type
            )
        except AlreadyListed:
            raise  # a concurrent "done" listed it first: the object is that video's
        except BaseException:
            await self.store.remove(storage_path)
            raise

    def _direct(self) -> DirectUploads:
        if self.direct is None:
            raise InvalidRequest(
                "direct uploads need STORAGE=supabase here; upload through POST …/videos instead"
            )
        return self.direct

    async def _judge(self, file: Path) -> tuple[int, MediaInfo]:
        size = (await asyncio.to_thread(file.stat)).st_size
        if size > self.max_bytes:
            raise VideoTooLarge(self.max_bytes)
        info = await asyncio.to_thread(self.probe.inspect, file)
        if info is None:
            raise UnsupportedMediaType("the file is not an MP4, QuickTime or WebM video")
        return size, info


def _slug(text: str) -> str:
    return _UNSAFE.sub("-", text.lower()).strip("-")[:48] or "video"
