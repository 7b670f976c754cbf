"""Local video storage: files under MEDIA_DIR, served by our own app at signed, expiring URLs.

The URL shape is `{base_url}/media/{storage_path}?expires=<unix seconds>&sig=<hex>`, where
`sig = HMAC-SHA256(key, "<storage_path>\\n<expires>")`. The key is derived from the app secret with a purpose
label, so a MAC made here can never be replayed as (or confused with) one the same secret makes elsewhere
(channel tokens, for instance). The URL is a capability: whoever holds it may fetch that one file until it
expires, which is what a browser `<video src>` needs (it cannot send an Authorization header).

Storage paths are canonical relative POSIX paths (`<demo_id>/<file>.mp4`): no empty, `.` or `..` segments,
not absolute. Being canonical means the signed string names exactly one file, and every resolved path is also
checked to stay under MEDIA_DIR, so `..` or a symlink pointing outside can never be served."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import mimetypes
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlencode

from demo_relay.domain.errors import InvalidRequest, InvalidToken, VideoMissing
from demo_relay.domain.models import DemoVideo, VideoUrl
from demo_relay.domain.ports import Clock

# Bumping the label invalidates every URL issued before; the label also separates this MAC's key from the
# app secret's other uses.
_KEY_LABEL = b"demo-relay media v1"
_SIG_RE = re.compile(r"[0-9a-fA-F]{64}")
# Canonical decimal only (no sign, spaces, underscores or leading zeros, all of which `int()` accepts), so one
# signature is valid for exactly one spelling of the URL. Twelve digits reach the year 33658.
_EXPIRES_RE = re.compile(r"[1-9][0-9]{0,11}")


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A verified request for one stored file: what the HTTP route needs to answer it."""

    path: Path  # resolved, inside media_dir
    storage_path: str
    size: int
    modified: datetime  # file mtime, UTC
    mtime_ns: int
    content_type: str
    expires_at: datetime  # when the URL that reached it stops working
    max_age_s: int  # seconds until then: how long a browser may cache the response


class LocalMediaStorage:
    """`VideoUrls` for files kept under `media_dir`, plus the verification the `/media` route needs."""

    def __init__(self, media_dir: Path, base_url: str, secret: str, ttl_s: int, clock: Clock) -> None:
        if not secret:
            raise ValueError("LocalMediaStorage needs a non-empty secret")
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._media_dir = Path(media_dir)
        self._base_url = base_url.rstrip("/")
        self._key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()
        self._ttl_s = ttl_s
        self._clock = clock
        self._resolved: dict[str, Path] = {}

    @property
    def media_dir(self) -> Path:
        return self._media_dir

    # --- the VideoUrls port -------------------------------------------------------------------------

    async def url_for(self, video: DemoVideo) -> VideoUrl:
        """A signed URL for the video's file, valid for `ttl_s`. Raises VideoMissing when the file is absent
        (or its storage path could not be a file of ours)."""
        # A stat on a local directory takes microseconds; hopping to a worker thread would cost more.
        self._existing_file(video.storage_path, remember=True)
        expires = int(self._clock.now().timestamp()) + self._ttl_s
        query = urlencode({"expires": expires, "sig": self.signature(video.storage_path, expires)})
        return VideoUrl(
            url=f"{self._base_url}/media/{quote(video.storage_path, safe='/')}?{query}",
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    # --- for the /media route ----------------------------------------------------------------------

    def signature(self, storage_path: str, expires: int) -> str:
        message = f"{storage_path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def open(self, storage_path: str, expires: str | int | None, sig: str | None) -> MediaFile:
        """Checks a request for `storage_path` (signature, then expiry) and returns the file to serve.

        Raises InvalidToken for a missing, malformed, forged or expired signature, and VideoMissing when
        the URL is genuine but the file is gone. The signature is checked first so that an unauthenticated
        caller learns nothing about which files exist."""
        expires_text = str(expires) if expires is not None else ""
        if not sig or not _EXPIRES_RE.fullmatch(expires_text) or not _SIG_RE.fullmatch(sig):
            raise InvalidToken("the media URL is missing its expires/sig parameters or they are malformed")
        expires_at_s = int(expires_text)
        expected = self.signature(storage_path, expires_at_s)
        # Constant time: a byte-by-byte comparison would let a caller discover a valid signature by timing.
        if not hmac.compare_digest(expected.encode(), sig.lower().encode()):
            raise InvalidToken("the media URL's signature does not match")
        now_s = self._clock.now().timestamp()
        if now_s >= expires_at_s:
            raise InvalidToken("the media URL has expired")
        path = self._existing_file(storage_path)
        stat = path.stat()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return MediaFile(
            path=path,
            storage_path=storage_path,
            size=stat.st_size,
            modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            mtime_ns=stat.st_mtime_ns,
            content_type=content_type,
            expires_at=datetime.fromtimestamp(expires_at_s, UTC),
            max_age_s=max(0, int(expires_at_s - now_s)),
        )

    # --- the VideoStore port (seeding, add-video) ----------------------------------------------------

    async def prepare(self) -> None:
        """Nothing to prepare: directories are created as files arrive."""

    async def put(
        self, source: Path, storage_path: str, content_type: str | None = None, *, consume: bool = False
    ) -> None:
        await asyncio.to_thread(self.import_file, source, storage_path, consume=consume)

    async def remove(self, storage_path: str) -> None:
        target = self._resolve(storage_path)
        if target is not None:
            await asyncio.to_thread(target.unlink, missing_ok=True)

    def import_file(self, src: Path, storage_path: str, *, consume: bool = False) -> None:
        """Copies `src` into the store at `storage_path` (creating directories; replacing an existing file);
        with `consume`, moves it there instead when it is on the same file system (an upload's scratch
        file).

        Raises InvalidRequest for a storage path that is not canonical or leaves media_dir, and
        FileNotFoundError when `src` does not exist."""
        target = self._resolve(storage_path)
        if target is None:
            raise InvalidRequest(
                f"storage path {storage_path!r} is not a relative path inside the media store"
            )
        if not Path(src).is_file():
            raise FileNotFoundError(f"no such file: {src}")
        target.parent.mkdir(parents=True, exist_ok=True)
        # Copy to a unique temporary name in the same directory, then rename over the target: a reader
        # serving the old file never sees a half-written one, and two concurrent imports do not interleave.
        fd, partial_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        os.close(fd)
        partial = Path(partial_name)
        try:
            moved = False
            if consume:
                try:
                    Path(src).replace(partial)  # same file system: a rename, not a second write
                    moved = True
                except OSError:
                    pass  # another file system: copy it like any other file
            if not moved:
                shutil.copyfile(src, partial)
            partial.chmod(0o644)  # mkstemp creates 0600; the file is meant to be served
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    # --- paths ---------------------------------------------------------------------------------------

    def _existing_file(self, storage_path: str, *, remember: bool = False) -> Path:
        """The file, resolved (links followed, kept inside the store). With `remember` (the webhook's hot
        path) a resolution that succeeded is kept, so a repeat costs one stat instead of a realpath walk;
        `open`, which serves the bytes, always resolves afresh."""
        path = self._resolved.get(storage_path) if remember else None
        if path is None:
            path = self._resolve(storage_path)
            if path is not None and remember:
                if len(self._resolved) >= MAX_REMEMBERED_PATHS:
                    self._resolved.clear()
                self._resolved[storage_path] = path
        if path is None or not path.is_file():
            self._resolved.pop(storage_path, None)
            raise VideoMissing(storage_path)
        return path

    def _resolve(self, storage_path: str) -> Path | None:
        """The real path of `storage_path` when it is canonical and stays under media_dir, else None."""
        if not _is_canonical(storage_path):
            return None
        root = self._media_dir.resolve()
        # resolve() follows symlinks, so a link inside the store that points outside it is caught here too.
        candidate = (root / storage_path).resolve()
        if candidate == root or not candidate.is_relative_to(root):
            return None
        return candidate


MAX_REMEMBERED_PATHS = 10_000


def _is_canonical(storage_path: str) -> bool:
    # NUL cannot be in a file name; a backslash is legal on POSIX but is a separator elsewhere, so a path
    # holding one is refused rather than risk `..\\` meaning something on another platform.
    if not storage_path or "\x00" in storage_path or "\\" in storage_path:
        return False
    if PurePosixPath(storage_path).is_absolute():
        return False
    return all(part not in ("", ".", "..") for part in storage_path.split("/"))
