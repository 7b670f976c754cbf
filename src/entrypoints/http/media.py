"""`GET`/`HEAD /media/{path}?expires=…&sig=…`: local videos at the signed URLs LocalMediaStorage makes.

A `<video>` element fetches with Range requests (to read the `moov` atom, to seek), so this route speaks
RFC 9110 ranges: `bytes=a-b`, `bytes=a-` and `bytes=-n` get `206` with `Content-Range`; a range starting past
the end gets `416` with `Content-Range: bytes */size`; a malformed `Range` is ignored (`200`, the whole file),
and so is a multi-range request (we never build `multipart/byteranges`: browsers do not ask for it, and
RFC 9110 lets a server ignore `Range`). `If-Range` is honoured, so a file replaced between two requests is
never spliced, and `If-None-Match` answers `304`. Files are streamed in 64 KiB reads on a worker thread.

Bad or expired signatures raise InvalidToken and missing files VideoMissing; the app-wide exception map
turns them into 403 / 404 JSON."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, head
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, PathParameter
from litestar.response import Stream

from demo_relay.adapters.storage.local import LocalMediaStorage, MediaFile
from demo_relay.entrypoints.http.openapi import errors

CHUNK_BYTES = 64 * 1024
_RANGE_RE = re.compile(r"\s*bytes\s*=(.*)", re.IGNORECASE | re.DOTALL)
# At most 19 digits (beyond any file size): int() refuses very long digit strings, and a malformed header
# must be ignored, never turned into a 500.
_SPEC_RE = re.compile(r"\s*([0-9]{0,19})-([0-9]{0,19})\s*")


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RangeNotSatisfiable(Exception):
    """A well-formed single range that selects no byte of the file."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range a `Range` header asks for, or None to serve the whole file (no header, a unit other
    than bytes, a malformed or a multi-range header). Raises RangeNotSatisfiable (→ 416)."""
    if header is None:
        return None
    match = _RANGE_RE.fullmatch(header)
    if match is None:
        return None
    specs = [spec for spec in match.group(1).split(",") if spec.strip()]  # the list syntax allows empty items
    if len(specs) != 1:
        return None
    spec = _SPEC_RE.fullmatch(specs[0])
    if spec is None:
        return None
    first, last = spec.group(1), spec.group(2)
    if not first:
        if not last:
            return None  # "bytes=-": no position at all
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable  # a zero-length suffix, or nothing to take one from
        return ByteRange(max(0, size - suffix), size - 1)  # a suffix longer than the file means all of it
    start = int(first)
    if last and int(last) < start:
        return None  # RFC 9110 §14.1.1: invalid, so the header is ignored
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, min(int(last), size - 1) if last else size - 1)


def entity_tag(media: MediaFile) -> str:
    # Strong, from size and nanosecond mtime (as nginx does): import_file replaces files by rename, so any
    # new content comes with a new mtime.
    return f'"{media.size:x}-{media.mtime_ns:x}"'


def _last_modified(media: MediaFile) -> str:
    return format_datetime(media.modified.replace(microsecond=0), usegmt=True)


def _if_range_allows(request: Request[Any, Any, Any], media: MediaFile) -> bool:
    """True when there is no `If-Range`, or its validator still matches (else the whole file is sent)."""
    value = request.headers.get("if-range")
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == entity_tag(media)  # strong comparison; a weak tag never matches
    try:
        since = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return since == media.modified.replace(microsecond=0)


def _not_modified(request: Request[Any, Any, Any], media: MediaFile) -> bool:
    value = request.headers.get("if-none-match")
    if value is None:
        return False
    if value.strip() == "*":
        return True
    ours = entity_tag(media)
    return any(tag.strip().removeprefix("W/") == ours for tag in value.split(","))  # weak comparison


def _headers(media: MediaFile) -> dict[str, str]:
    return {
        "accept-ranges": "bytes",
        # private: the URL is a personal capability; never longer than the signature lives.
        "cache-control": f"private, max-age={media.max_age_s}",
        "etag": entity_tag(media),
        "last-modified": _last_modified(media),
        "x-content-type-options": "nosniff",
    }


async def _chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """`length` bytes of `path` from `start`, in CHUNK_BYTES reads on a worker thread (never the whole file
    in memory, never a blocking read on the event loop). Litestar cancels this when the client goes away,
    and the `async with` closes the file then too."""
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = await handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                # The file shrank since we stat'ed it; the client sees a short body and a broken
                # Content-Length, which is the honest outcome.
                break
            remaining -= len(chunk)
            yield chunk


# What local storage names: "<demo id>/<file>" (the route hands it over with a leading "/").
# (Documented only; open_media checks it by the signature. Not `format: uri`, Litestar's default for a
# path-typed parameter: a storage path is not a URI.)
_MEDIA_PATH = PathParameter(
    description="The video's storage path",
    schema_extra={"format": None, "pattern": r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"},
)


def open_media(
    path: Annotated[Path, _MEDIA_PATH],
    media_storage: NamedDependency[LocalMediaStorage],
    # Optional here so that a URL without them gets our 403 invalid_token, not Litestar's 400.
    expires: FromQuery[str | None] = None,
    sig: FromQuery[str | None] = None,
) -> MediaFile:
    """The signed file both routes describe (InvalidToken / VideoMissing otherwise). Litestar hands
    `{path:path}` over as an absolute Path ("/<demo>/<file>"); storage paths are relative. Verification is
    an HMAC and a stat of one local file: cheap enough to run on the event loop."""
    return media_storage.open(str(path).lstrip("/"), expires, sig)


@get(
    "/{path:path}",
    summary="Stream a local video (signed URL, Range requests)",
    responses=errors(403, 404),
)
async def get_media(request: Request[Any, Any, Any], media: NamedDependency[MediaFile]) -> Response[Any]:
    headers = _headers(media)
    if _not_modified(request, media):
        return Response(None, status_code=304, headers=headers)
    range_header = request.headers.get("range")
    if range_header is not None and not _if_range_allows(request, media):
        # The client's partial copy is of another version (RFC 9110 §13.1.5): send the whole file instead,
        # before the Range is even evaluated.
        range_header = None
    try:
        byte_range = parse_range(range_header, media.size)
    except RangeNotSatisfiable:
        return Response(
            {"error": "range_not_satisfiable", "message": f"the file has {media.size} bytes"},
            status_code=416,
            headers={"accept-ranges": "bytes", "content-range": f"bytes */{media.size}"},
        )
    if byte_range is None:
        return Stream(
            _chunks(media.path, 0, media.size),
            status_code=200,
            media_type=media.content_type,
            headers={**headers, "content-length": str(media.size)},
        )
    return Stream(
        _chunks(media.path, byte_range.start, byte_range.length),
        status_code=206,
        media_type=media.content_type,
        headers={
            **headers,
            "content-length": str(byte_range.length),
            "content-range": f"bytes {byte_range.start}-{byte_range.end}/{media.size}",
        },
    )


@head("/{path:path}", summary="Headers of a local video (signed URL)", responses=errors(403, 404))
async def head_media(request: Request[Any, Any, Any], media: NamedDependency[MediaFile]) -> Response[None]:
    # RFC 9110 defines Range for GET only, so HEAD always describes the whole file.
    headers = _headers(media)
    if _not_modified(request, media):
        return Response(None, status_code=304, headers=headers)
    return Response(
        None,
        status_code=200,
        headers={**headers, "content-type": media.content_type, "content-length": str(media.size)},
    )


media_router = Router(
    path="/media",
    route_handlers=[get_media, head_media],
    dependencies={"media": Provide(open_media, sync_to_thread=False)},
)
