"""The sample demo: 3 short clips committed under media/samples, imported into local storage and the
catalog, so `make run` shows the whole flow on a fresh machine."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.adapters.storage.local import LocalMediaStorage
from demo_relay.domain.models import Demo

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


async def seed_sample_demo(catalog: AsyncpgDemoCatalog, storage: LocalMediaStorage) -> Demo:
    demo = await catalog.create_demo(SAMPLE_DEMO_NAME)
    for sample in load_samples():
        storage_path = f"{demo.id}/{sample.file.name}"
        storage.import_file(sample.file, storage_path)
        await catalog.add_video(demo.id, sample.title, storage_path, sample.duration_s)
    seeded = await catalog.get_demo(demo.id)
    assert seeded is not None
    log.info("seeded demo %s with %d videos", seeded.id, len(seeded.videos))
    return seeded


async def seed_if_empty(catalog: AsyncpgDemoCatalog, storage: LocalMediaStorage) -> Demo | None:
    if not await catalog.is_empty():
        return None
    return await seed_sample_demo(catalog, storage)
