"""A video upload read as it arrives: `multipart/form-data` parsed incrementally (python-multipart) from
the request stream, the `file` part written chunk by chunk to a temporary file, the `title` part kept.
Nothing is ever held whole in memory, and the size limit is enforced while reading: a declared
Content-Length over it is refused before a byte is read, a body that grows past it is cut off there.
The temporary file is the caller's to delete (`received` does so whatever happens)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from litestar import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from demo_relay.domain.errors import InvalidRequest, MalformedRequest, VideoTooLarge
from demo_relay.domain.titles import MAX_TITLE_CHARS

MAX_TITLE_BYTES = 4096
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the title, beyond the file itself
_FLUSH_BYTES = 1024 * 1024


@dataclass
class Upload:
    title: str | None  # None: the form had no title (the caller defaults it from the file name)
    filename: str
    path: Path
    size: int


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    headers: dict[bytes, bytes] = field(default_factory=dict)


class _Reader:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.directory = directory
        self.title = bytearray()
        self.has_title = False
        self.file: IO[bytes] | None = None
        self.path: Path | None = None
        self.filename = ""
        self.size = 0
        self.pending = bytearray()
        self.part = _Part()
        self._field = b""
        self._value = b""

    # python-multipart callbacks (synchronous; file writes are batched and done off the loop)
    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw = options.get(b"filename")
        self.part.filename = None if raw is None else raw.decode("utf-8", "replace")
        if self.part.name == "file":
            if self.file is not None:
                raise MalformedRequest("the form has more than one file part")
            fd, name = tempfile.mkstemp(dir=self.directory, prefix="upload-", suffix=".part")
            self.file, self.path = os.fdopen(fd, "wb"), Path(name)
            self.filename = self.part.filename or ""
        elif self.part.name == "title":
            self.has_title = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.name == "file":
            self.size += end - start
            if self.size > self.max_bytes:
                raise VideoTooLarge(self.max_bytes)
            self.pending += data[start:end]
        elif self.part.name == "title":
            self.title += data[start:end]
            if len(self.title) > MAX_TITLE_BYTES:
                raise InvalidRequest("the title is too long", field="title")

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
        }

    async def flush(self, force: bool = False) -> None:
        if self.file is not None and self.pending and (force or len(self.pending) >= _FLUSH_BYTES):
            chunk, self.pending = bytes(self.pending), bytearray()
            await asyncio.to_thread(self.file.write, chunk)


@contextlib.asynccontextmanager
async def received(request: Request[Any, Any, Any], directory: Path, max_bytes: int) -> AsyncIterator[Upload]:
    """The upload, once the whole body has been read; its temporary file is removed on exit."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise MalformedRequest("a video is uploaded as multipart/form-data with the fields title and file")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise VideoTooLarge(max_bytes)
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    reader = _Reader(directory, max_bytes)
    try:
        parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                await reader.flush()
            parser.finalize()
        except MultipartParseError as exc:
            raise MalformedRequest(f"the multipart body is malformed ({exc})") from None
        await reader.flush(force=True)
        if reader.file is None or reader.path is None:
            raise InvalidRequest("the form has no file part named 'file'", field="file")
        await asyncio.to_thread(reader.file.close)
        title = reader.title.decode("utf-8", "replace") if reader.has_title else None
        yield Upload(title, reader.filename, reader.path, reader.size)
    finally:
        if reader.file is not None:
            reader.file.close()  # a no-op when already closed above
        if reader.path is not None:
            await asyncio.to_thread(reader.path.unlink, missing_ok=True)


def default_title(filename: str) -> str:
    """The file name without its directory and extension ("Pricing tour.mp4" → "Pricing tour")."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return " ".join(stem.replace("_", " ").replace("\x00", " ").split())[:MAX_TITLE_CHARS]
