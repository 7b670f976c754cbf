"""The frames the hub writes itself are byte for byte what websockets would have sent (RFC 6455 §5.2: a
server's frame is unmasked; the length takes 1, 3 or 9 bytes)."""

from __future__ import annotations

import pytest
from websockets.frames import OP_TEXT, Frame

from demo_relay.entrypoints.http.ws_direct import text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_text_frame_is_what_websockets_serialises(size: int) -> None:
    text = ("é" * size)[: max(0, size // 2)] + "x" * (size - max(0, size // 2))  # multi-byte UTF-8 too
    assert text_frame(text) == Frame(OP_TEXT, text.encode()).serialize(mask=False)
