"""The sample demo's clips, shipped inside the package (samples/: the MP4s, their titles and durations in
samples.json, and a README on how they were made), found the same way in a checkout and an install."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from demo_relay.domain.models import Sample

SAMPLES_DIR = Path(str(resources.files("demo_relay.adapters") / "samples"))


def load_samples(directory: Path = SAMPLES_DIR) -> tuple[Sample, ...]:
    manifest = json.loads((directory / "samples.json").read_text())
    return tuple(Sample(item["title"], directory / item["file"], item.get("duration_s")) for item in manifest)
