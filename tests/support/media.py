"""Small video files for upload tests: a WebM built element by element (EBML header with DocType `webm`,
a Segment whose Info carries TimecodeScale and Duration, one Tracks entry and one empty Cluster), shaped as
browsers' MediaRecorder and ffmpeg write it; the MP4s are the real sample clips."""

from __future__ import annotations

import struct


def _size(n: int) -> bytes:
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return (n | (1 << (7 * length))).to_bytes(length, "big")
    raise ValueError("too large")


def element(element_id: int, payload: bytes) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + _size(len(payload)) + payload


def uint(element_id: int, value: int) -> bytes:
    return element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def webm_bytes(duration_s: float = 7.5, *, doctype: bytes = b"webm") -> bytes:
    header = element(
        0x1A45DFA3,
        uint(0x4286, 1)  # EBMLVersion
        + uint(0x42F7, 1)  # EBMLReadVersion
        + uint(0x42F2, 4)
        + uint(0x42F3, 8)
        + element(0x4282, doctype)
        + uint(0x4287, 4)
        + uint(0x4285, 2),
    )
    info = element(
        0x1549A966,
        uint(0x2AD7B1, 1_000_000)  # TimecodeScale: milliseconds
        + element(0x4489, struct.pack(">d", duration_s * 1000))  # Duration, in TimecodeScale units
        + element(0x4D80, b"demo-relay tests")  # MuxingApp
        + element(0x5741, b"demo-relay tests"),  # WritingApp
    )
    tracks = element(
        0x1654AE6B,
        element(0xAE, uint(0xD7, 1) + uint(0x73C5, 1) + uint(0x83, 1) + element(0x86, b"V_VP8")),
    )
    cluster = element(0x1F43B675, uint(0xE7, 0))
    return header + element(0x18538067, info + tracks + cluster)
