"""Adding a video file to a demo: into the video store under a fresh path, then into the catalog with
its duration (read from the file unless given). A video the catalog refuses leaves no object behind."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from demo_relay.domain.errors import UnknownDemo
from demo_relay.domain.models import DemoVideo
from demo_relay.domain.ports import CatalogEditor, DemoCatalog, MediaProbe, VideoStore


@dataclass
class AddVideo:
    catalog: DemoCatalog
    editor: CatalogEditor
    store: VideoStore
    probe: MediaProbe

    async def execute(
        self, demo_id: str, title: str, file: Path, duration_s: float | None = None
    ) -> DemoVideo:
        if await self.catalog.get_demo(demo_id) is None:
            raise UnknownDemo(f"no demo {demo_id}", demo_id=demo_id)
        # A fresh prefix per upload: a file name used twice never overwrites the other video's object.
        storage_path = f"{demo_id}/{uuid.uuid4().hex[:8]}-{file.name}"
        duration = duration_s if duration_s is not None else self.probe.duration_s(file)
        await self.store.put(file, storage_path)
        try:
            return await self.editor.add_video(demo_id, title, storage_path, duration)
        except BaseException:
            await self.store.remove(storage_path)
            raise
