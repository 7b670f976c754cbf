"""What a video file is, judged by its bytes, never by its name or declared type: an ISO-BMFF `ftyp` box
first (MP4; QuickTime when the major brand is `qt  `), or an EBML header whose DocType is `webm`. The
duration comes from the file too: MP4's `moov/mvhd` (ISO/IEC 14496-12), WebM's Segment/Info Duration times
TimecodeScale (Matroska/EBML, RFC 8794). Pure Python, reading a few boxes or elements, never the whole file:
no ffprobe to install."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from demo_relay.domain.models import MediaInfo

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_CLUSTER = 0x1F43B675


class FileProbe:
    """The MediaProbe port."""

    def inspect(self, path: Path) -> MediaInfo | None:
        try:
            with path.open("rb") as handle:
                head = handle.read(12)
                size = path.stat().st_size
                if len(head) >= 12 and head[4:8] == b"ftyp":
                    brand = head[8:12]
                    handle.seek(0)
                    duration = _mp4_duration(handle, size)
                    return MediaInfo("video/quicktime" if brand == b"qt  " else "video/mp4", duration)
                if head.startswith(_EBML_MAGIC):
                    handle.seek(0)
                    return _webm(handle, size)
        except (OSError, struct.error, ValueError, IndexError):
            return None
        return None


def _mp4_duration(handle: BinaryIO, end: int) -> float | None:
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
            return _mp4_duration(handle, start + size)
        if kind == b"mvhd":
            version = handle.read(1)[0]
            handle.read(3)  # flags
            if version == 1:
                _, _, timescale, duration = struct.unpack(">QQIQ", handle.read(28))
            else:
                _, _, timescale, duration = struct.unpack(">IIII", handle.read(16))
            return duration / timescale if timescale and duration else None
        handle.seek(start + size)
    return None


# --- EBML ---------------------------------------------------------------------------------------------


def _vint(handle: BinaryIO, *, keep_marker: bool) -> tuple[int, int]:
    """One EBML variable-length integer: (value, its length). IDs keep their length marker; sizes do not.
    A size of all ones means "unknown" and is returned as -1."""
    first = handle.read(1)
    if not first:
        raise ValueError("end of file")
    byte = first[0]
    length = 1
    mask = 0x80
    while length <= 8 and not byte & mask:
        mask >>= 1
        length += 1
    if length > 8:
        raise ValueError("not an EBML integer")
    value = byte if keep_marker else byte & (mask - 1)
    rest = handle.read(length - 1)
    if len(rest) != length - 1:
        raise ValueError("end of file")
    for b in rest:
        value = (value << 8) | b
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return -1, length
    return value, length


def _elements(handle: BinaryIO, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, data start, data size) of each element up to `end`; the caller seeks past what it skips."""
    while handle.tell() < end:
        element, _ = _vint(handle, keep_marker=True)
        size, _ = _vint(handle, keep_marker=False)
        start = handle.tell()
        yield element, start, (end - start if size < 0 else size)


def _webm(handle: BinaryIO, size: int) -> MediaInfo | None:
    element, _ = _vint(handle, keep_marker=True)
    header_size, _ = _vint(handle, keep_marker=False)
    header_end = handle.tell() + header_size
    doctype = None
    for child, start, length in _elements(handle, header_end):
        if child == _EBML_DOCTYPE:
            doctype = handle.read(length).rstrip(b"\x00")
        handle.seek(start + length)
    if element != int.from_bytes(_EBML_MAGIC, "big") or doctype != b"webm":
        return None
    handle.seek(header_end)
    for child, start, length in _elements(handle, size):
        if child == _SEGMENT:
            return MediaInfo("video/webm", _segment_duration(handle, min(size, start + length)))
        handle.seek(start + length)
    return MediaInfo("video/webm", None)


def _segment_duration(handle: BinaryIO, end: int) -> float | None:
    for child, start, length in _elements(handle, end):
        if child == _CLUSTER:  # Info comes before the media data; stop at the first cluster
            return None
        if child == _INFO:
            scale_ns, duration = 1_000_000, None
            for field, field_start, field_length in _elements(handle, start + length):
                raw = handle.read(field_length)
                if field == _TIMECODE_SCALE:
                    scale_ns = int.from_bytes(raw, "big")
                elif field == _DURATION and field_length in (4, 8):
                    duration = struct.unpack(">f" if field_length == 4 else ">d", raw)[0]
                handle.seek(field_start + field_length)
            if duration is None or not duration > 0 or not scale_ns:
                return None
            return float(duration) * scale_ns / 1e9
        handle.seek(start + length)
    return None
