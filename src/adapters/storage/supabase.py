"""Supabase Storage (`STORAGE=supabase`): video URLs for objects in one bucket, through the `supabase`
package's async Storage client (storage3), which speaks the Storage REST API under `/storage/v1`.

- `signed` mode: `POST /object/sign/{bucket}/{path}` → an expiring URL. Signed URLs are cached and reused
  until shortly before they expire, but never handed out when they would expire while the video plays
  (its duration, 10 min when unknown, plus a safety margin). Concurrent requests for the same object share
  one Storage call, so a burst of webhooks for one video costs one round trip.
- `public` mode: the public object URL, built locally; the object's existence is checked with Storage's
  `object/info` and remembered for a while, so a missing object still answers `video_missing`.

Driver failures become domain errors here: a missing object (Storage answers 400 with statusCode "404")
is `VideoMissing`; Storage unreachable, slow, 5xx or refusing our credentials is `StorageUnavailable`
(502, the delivery stays retryable)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from storage3 import AsyncStorageClient
from storage3.exceptions import StorageApiError

from demo_relay.domain.errors import StorageUnavailable, VideoMissing, VideoTooLarge
from demo_relay.domain.models import UNKNOWN_DURATION_CURRENT_S, DemoVideo, SignedUpload, VideoUrl
from demo_relay.domain.ports import Clock

log = logging.getLogger(__name__)

T = TypeVar("T")

# A cached URL is reused only while it stays valid for the whole video plus this margin (clock skew
# between us, Storage and the browser; a viewer pausing for a moment).
SAFETY_MARGIN_S = 60.0
# How long a positive existence check of a public object is trusted.
EXISTS_TTL_S = 300.0


@dataclass(frozen=True, slots=True)
class _Cached:
    url: str
    expires_at: datetime | None
    checked_at: datetime


class SupabaseVideoStorage:
    """The `VideoUrls` port on Supabase Storage, plus the uploads seeding needs."""

    def __init__(
        self,
        storage: AsyncStorageClient,
        bucket: str,
        url_mode: str,
        ttl_s: int,
        clock: Clock,
        *,
        http: httpx.AsyncClient | None = None,  # for streamed downloads (direct uploads' checks)
        supabase_url: str = "",
        service_key: str = "",
        scratch_dir: Path | None = None,
    ) -> None:
        if url_mode not in ("signed", "public"):
            raise ValueError(f"url_mode must be 'signed' or 'public', not {url_mode!r}")
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._storage = storage
        self._bucket = bucket
        self._mode = url_mode
        self._ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[str, _Cached] = {}
        self._in_flight: dict[str, asyncio.Future[_Cached]] = {}  # running Storage calls, by path
        self._http = http
        self._object_url = f"{supabase_url.rstrip('/')}/storage/v1/object/authenticated/{bucket}/"
        self._auth = {"apikey": service_key, "Authorization": f"Bearer {service_key}"}
        self._scratch = scratch_dir

    # --- the VideoUrls port -------------------------------------------------------------------------

    async def url_for(self, video: DemoVideo) -> VideoUrl:
        path = video.storage_path
        needed_s = (
            video.duration_s if video.duration_s is not None else UNKNOWN_DURATION_CURRENT_S
        ) + SAFETY_MARGIN_S
        cached = self._cache.get(path)
        if cached is not None and self._still_good(cached, needed_s):
            return VideoUrl(cached.url, cached.expires_at)
        entry = await self._single_flight(path, lambda: self._fetch(path))
        if self._mode == "signed" and not self._still_good(entry, needed_s):
            # Fresh, yet too short for this video (SIGNED_URL_TTL_S below the video's length): hand it out
            # anyway rather than fail, and say why the viewer may see it stop.
            log.warning(
                "signed URL TTL %ss is shorter than video %s needs (%ss)", self._ttl_s, path, needed_s
            )
        return VideoUrl(entry.url, entry.expires_at)

    def _still_good(self, entry: _Cached, needed_s: float) -> bool:
        now = self._clock.now()
        if entry.expires_at is None:  # public URL: trust the existence check for a while
            return now - entry.checked_at < timedelta(seconds=EXISTS_TTL_S)
        return entry.expires_at - now >= timedelta(seconds=needed_s)

    async def _single_flight(self, path: str, fetch: Callable[[], Awaitable[_Cached]]) -> _Cached:
        """One Storage call per object at a time; concurrent callers await the same result. The call runs
        as its own task, so a caller that goes away (a cancelled request) does not cancel it for the rest."""
        task = self._in_flight.get(path)
        if task is None:
            task = asyncio.ensure_future(fetch())
            self._in_flight[path] = task
            task.add_done_callback(lambda done: self._landed(path, done))
        return await asyncio.shield(task)

    def _landed(self, path: str, task: asyncio.Future[_Cached]) -> None:
        if self._in_flight.get(path) is task:
            del self._in_flight[path]
        # Reading the exception marks it retrieved; a failure is not cached, the next call asks again.
        if not task.cancelled() and task.exception() is None:
            self._cache[path] = task.result()

    async def _fetch(self, path: str) -> _Cached:
        bucket = self._storage.from_(self._bucket)
        now = self._clock.now()
        if self._mode == "public":
            await self._call(path, bucket.info(path))
            return _Cached(await bucket.get_public_url(path), None, now)
        # The URL's lifetime is counted from before the request, so we never overestimate it.
        signed = await self._call(path, bucket.create_signed_url(path, self._ttl_s))
        url = signed.get("signedURL") or signed.get("signedUrl")
        if not url:
            raise StorageUnavailable("Storage answered a signed URL request without a URL")
        return _Cached(str(url), now + timedelta(seconds=self._ttl_s), now)

    async def _call(self, path: str, request: Awaitable[T]) -> T:
        try:
            return await request
        except StorageApiError as exc:
            raise _translate(exc, self._bucket, path) from None
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None

    # --- the VideoStore port (seeding, add-video) -------------------------------------------------

    async def prepare(self) -> None:
        """Creates the bucket when it does not exist (public when URLs are public), so a fresh project
        works without manual steps."""
        if await self._ensure_bucket(public=self._mode == "public"):
            log.info("created Storage bucket %s", self._bucket)

    async def _ensure_bucket(self, public: bool) -> bool:
        try:
            await self._storage.get_bucket(self._bucket)
            return False
        except StorageApiError as exc:
            if not _is_not_found(exc):
                raise _translate(exc, self._bucket, "") from None
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None
        await self._call("", self._storage.create_bucket(self._bucket, options={"public": public}))
        return True

    async def put(
        self, source: Path, storage_path: str, content_type: str | None = None, *, consume: bool = False
    ) -> None:
        """Uploads (or replaces) one object. Given the path, storage3 opens the file and httpx streams it
        in chunks: a large video is never held in memory."""
        content_type = content_type or mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        bucket = self._storage.from_(self._bucket)
        options: Any = {"content-type": content_type, "upsert": "true"}
        await self._call(storage_path, bucket.upload(storage_path, source, options))
        self._cache.pop(storage_path, None)

    async def remove(self, storage_path: str) -> None:
        """Storage answers a removal of a missing object with an empty list, not an error."""
        self._cache.pop(storage_path, None)
        with contextlib.suppress(VideoMissing):  # already gone: what removing it was for
            await self._call(storage_path, self._storage.from_(self._bucket).remove([storage_path]))

    # --- the DirectUploads port (the page uploads straight to the bucket) ----------------------------

    async def sign_upload(self, storage_path: str) -> SignedUpload:
        bucket = self._storage.from_(self._bucket)
        signed = await self._call(storage_path, bucket.create_signed_upload_url(storage_path))
        return SignedUpload(storage_path, signed["signed_url"], signed["token"])

    @contextlib.asynccontextmanager
    async def fetched(self, storage_path: str, max_bytes: int) -> AsyncIterator[Path]:
        """Streams the object into a scratch file (a chunk at a time, cut off past `max_bytes`)."""
        if self._http is None:
            raise StorageUnavailable("this store was built without a connection for downloads")
        if self._scratch is not None:
            await asyncio.to_thread(self._scratch.mkdir, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._scratch, prefix="fetched-", suffix=".part")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    async with self._http.stream(
                        "GET", self._object_url + quote(storage_path), headers=self._auth
                    ) as response:
                        if response.status_code in (400, 404):
                            raise VideoMissing(f"{self._bucket}/{storage_path}")
                        if response.status_code >= 300:
                            raise StorageUnavailable(f"Supabase Storage answered {response.status_code}")
                        size = 0
                        async for chunk in response.aiter_bytes(1024 * 1024):
                            size += len(chunk)
                            if size > max_bytes:
                                raise VideoTooLarge(max_bytes)
                            await asyncio.to_thread(out.write, chunk)
                except httpx.HTTPError as exc:
                    raise _unreachable(exc) from None
            yield path
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def aclose(self) -> None:
        """Cancels the Storage calls still in flight and waits for them (shutdown): none outlives the
        connection it runs on."""
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _unreachable(exc: httpx.HTTPError) -> StorageUnavailable:
    return StorageUnavailable(f"Supabase Storage is unreachable ({type(exc).__name__})")


def _is_not_found(exc: StorageApiError) -> bool:
    return str(exc.status) == "404" or exc.code in ("not_found", "NoSuchKey", "Bucket not found")


def _translate(exc: StorageApiError, bucket: str, path: str) -> Exception:
    if _is_not_found(exc) and path:
        return VideoMissing(f"{bucket}/{path}")
    # Credentials refused, bucket missing, 5xx: ours to fix or Storage's to recover, never the caller's.
    return StorageUnavailable(f"Supabase Storage refused the request (status {exc.status}, {exc.code})")
