"""The sample demo: 3 short clips committed under media/samples, put into the video store (local files,
or the Supabase Storage bucket, created if missing) and the catalog, so `make run` shows the whole flow
on a fresh machine or a fresh Supabase project."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.domain.models import Demo
from demo_relay.domain.ports import VideoStore

log = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "media" / "samples"
SAMPLE_DEMO_NAME = "Acme Analytics product tour"


@dataclass(frozen=True)
class Sample:
    title: str
    file: Path
    duration_s: float | None


def load_samples(directory: Path = SAMPLES_DIR) -> list[Sample]:
    manifest = json.loads((directory / "samples.json").read_text())
    return [Sample(item["title"], directory / item["file"], item.get("duration_s")) for item in manifest]


async def seed_sample_demo(catalog: AsyncpgDemoCatalog, storage: VideoStore) -> Demo:
    # Files first, rows after: a failed upload leaves no demo whose videos are missing.
    samples = load_samples()
    demo_id = str(uuid.uuid4())
    await storage.prepare()
    for sample in samples:
        await storage.put(sample.file, f"{demo_id}/{sample.file.name}")
    demo = await catalog.create_demo(SAMPLE_DEMO_NAME, demo_id=demo_id)
    for sample in samples:
        storage_path = f"{demo.id}/{sample.file.name}"
        await catalog.add_video(demo.id, sample.title, storage_path, sample.duration_s)
    seeded = await catalog.get_demo(demo.id)
    assert seeded is not None
    log.info("seeded demo %s with %d videos", seeded.id, len(seeded.videos))
    return seeded


async def seed_if_empty(catalog: AsyncpgDemoCatalog, storage: VideoStore) -> Demo | None:
    if not await catalog.is_empty():
        return None
    return await seed_sample_demo(catalog, storage)
