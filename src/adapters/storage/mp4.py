"""Reads an MP4's duration from its `moov/mvhd` box (ISO/IEC 14496-12), so `add-video` needs no ffprobe."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO


def mp4_duration_s(path: Path) -> float | None:
    """Duration in seconds, or None when the file is not an MP4 we can read."""
    try:
        with path.open("rb") as handle:
            return _find_mvhd(handle, path.stat().st_size)
    except (OSError, struct.error, ValueError):
        return None


def _find_mvhd(handle: BinaryIO, end: int) -> float | None:
    while handle.tell() + 8 <= end:
        start = handle.tell()
        size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            header = 16
        elif size == 0:
            size = end - start
        if size < header:
            return None
        if kind == b"moov":
            return _find_mvhd(handle, start + size)
        if kind == b"mvhd":
            version = handle.read(1)[0]
            handle.read(3)  # flags
            if version == 1:
                _, _, timescale, duration = struct.unpack(">QQIQ", handle.read(28))
            else:
                _, _, timescale, duration = struct.unpack(">IIII", handle.read(16))
            return duration / timescale if timescale else None
        handle.seek(start + size)
    return None


class Mp4Probe:
    """The MediaProbe port for MP4/QuickTime files."""

    def duration_s(self, path: Path) -> float | None:
        return mp4_duration_s(path)
