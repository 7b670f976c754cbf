"""The sample demo: its clips are put into the video store (local files, or the Supabase bucket, created
if missing) and then listed in the catalog, so `make run` shows the whole flow on a fresh machine or a
fresh Supabase project."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from demo_relay.domain.models import Demo, Sample
from demo_relay.domain.ports import CatalogEditor, DemoCatalog, VideoStore

log = logging.getLogger(__name__)

SAMPLE_DEMO_NAME = "Acme Analytics product tour"


@dataclass
class SeedSampleDemo:
    catalog: DemoCatalog
    editor: CatalogEditor
    store: VideoStore
    samples: Sequence[Sample]

    async def execute(self, *, force: bool = False) -> Demo | None:
        """The seeded demo; None (nothing done) when demos exist, unless `force`."""
        if not force and not await self.editor.is_empty():
            return None
        # Files first, rows after: a failed upload leaves no demo whose videos are missing.
        demo_id = str(uuid.uuid4())
        await self.store.prepare()
        for sample in self.samples:
            await self.store.put(sample.file, f"{demo_id}/{sample.file.name}")
        await self.editor.create_demo(SAMPLE_DEMO_NAME, demo_id=demo_id)
        for sample in self.samples:
            await self.editor.add_video(
                demo_id, sample.title, f"{demo_id}/{sample.file.name}", sample.duration_s
            )
        seeded = await self.catalog.get_demo(demo_id)
        assert seeded is not None  # just written
        log.info("seeded demo %s with %d videos", seeded.id, len(seeded.videos))
        return seeded
