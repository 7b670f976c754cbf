"""The `/media/{path}` route, through Litestar's test client, serving the real sample clips.

Proves that a URL made by LocalMediaStorage.url_for plays: a full GET returns 200 `video/mp4` with the clip's
exact bytes (several 64 KiB chunks), `Accept-Ranges`, `Content-Length` and a private `Cache-Control` no
longer than the signature lives; the three RFC 9110 range forms (`a-b`, `a-`, `-n`) return 206 with the
exact slice and a matching `Content-Range`; a range past the end is 416 with `Content-Range: bytes */size`;
malformed and multi-range headers are ignored (200, whole file); `If-Range`/`If-None-Match` behave; HEAD
describes the file without a body; expired, forged or unsigned URLs are 403 `invalid_token` and a vanished
file 404 `video_missing`. The app is built here with the route's one dependency, `media_storage`, and a
stand-in for the app-wide DomainError → JSON exception map."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.testing import TestClient

from demo_relay.adapters.sample_clips import SAMPLES_DIR
from demo_relay.adapters.storage.local import LocalMediaStorage
from demo_relay.domain.errors import DomainError, InvalidToken, NotFound
from demo_relay.domain.models import DemoVideo
from demo_relay.entrypoints.http.media import CHUNK_BYTES, media_router
from tests.support.fakes import FakeClock

SAMPLES = SAMPLES_DIR
BASE_URL = "http://testserver.local"  # the test client's own base URL, so signed URLs work as they are
TTL_S = 3600
CLIP = "demo-1/integrations-tour.mp4"  # the largest sample: several chunks


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """Stand-in for the app-wide exception map the lead adds."""
    status = 403 if isinstance(exc, InvalidToken) else 404 if isinstance(exc, NotFound) else 500
    return Response({"error": exc.code, "message": exc.message}, status_code=status)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def storage(tmp_path: Path, clock: FakeClock) -> LocalMediaStorage:
    storage = LocalMediaStorage(tmp_path / "media", BASE_URL, "test-app-secret", TTL_S, clock)
    storage.import_file(SAMPLES / "integrations-tour.mp4", CLIP)
    return storage


@pytest.fixture
def client(storage: LocalMediaStorage) -> Iterator[TestClient[Litestar]]:
    app = Litestar(
        route_handlers=[media_router],
        dependencies={"media_storage": Provide(lambda: storage, sync_to_thread=False)},
        exception_handlers={DomainError: on_domain_error},
    )
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def clip_bytes() -> bytes:
    return (SAMPLES / "integrations-tour.mp4").read_bytes()


async def signed_url(storage: LocalMediaStorage, storage_path: str = CLIP) -> str:
    url = await storage.url_for(DemoVideo(id="v1", demo_id="demo-1", title="T", storage_path=storage_path))
    return url.url


async def test_full_get_returns_the_exact_file(
    client: TestClient[Litestar], storage: LocalMediaStorage, clip_bytes: bytes
) -> None:
    assert len(clip_bytes) > 2 * CHUNK_BYTES  # the body really is streamed in several reads

    response = client.get(await signed_url(storage))

    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(clip_bytes))
    assert response.headers["cache-control"] == f"private, max-age={TTL_S}"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith(" GMT")
    assert "content-range" not in response.headers
    assert response.content == clip_bytes


async def test_cache_lifetime_shrinks_with_the_signature(
    client: TestClient[Litestar], storage: LocalMediaStorage, clock: FakeClock
) -> None:
    url = await signed_url(storage)
    clock.advance(TTL_S - 90)

    assert client.get(url).headers["cache-control"] == "private, max-age=90"


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),  # a-b
        ("bytes=60000-140000", 60000, 140000),  # a-b across chunk boundaries
        ("bytes=1000-", 1000, None),  # a-
        ("bytes=-500", -500, None),  # -n
        ("bytes=100-999999999", 100, None),  # a last-pos past the end is clamped
        ("bytes=-999999999", 0, None),  # a suffix longer than the file is the whole file
        ("BYTES=0-0", 0, 0),  # the unit is case-insensitive
    ],
)
async def test_range_returns_the_exact_slice(
    client: TestClient[Litestar],
    storage: LocalMediaStorage,
    clip_bytes: bytes,
    range_header: str,
    start: int,
    end: int | None,
) -> None:
    size = len(clip_bytes)
    expected = clip_bytes[start : None if end is None else end + 1]
    first = start % size if start < 0 else start
    last = first + len(expected) - 1

    response = client.get(await signed_url(storage), headers={"Range": range_header})

    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize("range_header", ["bytes={size}-", "bytes={size}-{size}", "bytes=-0"])
async def test_unsatisfiable_range_is_416(
    client: TestClient[Litestar], storage: LocalMediaStorage, clip_bytes: bytes, range_header: str
) -> None:
    size = len(clip_bytes)

    response = client.get(await signed_url(storage), headers={"Range": range_header.format(size=size)})

    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"
    assert response.json()["error"] == "range_not_satisfiable"


@pytest.mark.parametrize(
    "range_header",
    [
        "bytes=abc",
        "bytes=5-1",
        "bytes=-",
        "items=0-1",
        "bytes 0-1",
        "bytes=0-1,5-6",
        "bytes=" + "9" * 40 + "-",
    ],
)
async def test_malformed_or_multi_range_is_ignored(
    client: TestClient[Litestar], storage: LocalMediaStorage, clip_bytes: bytes, range_header: str
) -> None:
    response = client.get(await signed_url(storage), headers={"Range": range_header})

    assert response.status_code == 200
    assert response.content == clip_bytes
    assert "content-range" not in response.headers


async def test_if_range_with_the_current_etag_gets_the_range(
    client: TestClient[Litestar], storage: LocalMediaStorage, clip_bytes: bytes
) -> None:
    url = await signed_url(storage)
    etag = client.head(url).headers["etag"]

    response = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})

    assert response.status_code == 206
    assert response.content == clip_bytes[:10]


async def test_if_range_with_a_stale_validator_gets_the_whole_file(
    client: TestClient[Litestar], storage: LocalMediaStorage, clip_bytes: bytes
) -> None:
    url = await signed_url(storage)

    for validator in ['"0-0"', "Thu, 01 Jan 1970 00:00:00 GMT"]:
        # Even an unsatisfiable range: If-Range is evaluated first, so the answer is the new file, not 416.
        for range_header in ("bytes=0-9", f"bytes={len(clip_bytes)}-"):
            response = client.get(url, headers={"Range": range_header, "If-Range": validator})
            assert response.status_code == 200
            assert response.content == clip_bytes


async def test_if_none_match_gets_304(client: TestClient[Litestar], storage: LocalMediaStorage) -> None:
    url = await signed_url(storage)
    etag = client.get(url).headers["etag"]

    response = client.get(url, headers={"If-None-Match": f'W/"other", {etag}'})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


async def test_head_describes_the_file_without_a_body(
    client: TestClient[Litestar], storage: LocalMediaStorage, clip_bytes: bytes
) -> None:
    url = await signed_url(storage)

    for headers in ({}, {"Range": "bytes=0-9"}):  # RFC 9110 defines Range for GET only
        response = client.head(url, headers=headers)
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-type"] == "video/mp4"
        assert response.headers["content-length"] == str(len(clip_bytes))
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["cache-control"] == f"private, max-age={TTL_S}"


async def test_path_with_spaces_plays(
    client: TestClient[Litestar], storage: LocalMediaStorage, clip_bytes: bytes
) -> None:
    storage.import_file(SAMPLES / "integrations-tour.mp4", "demo-1/my clip.mp4")

    response = client.get(await signed_url(storage, "demo-1/my clip.mp4"))

    assert response.status_code == 200
    assert response.content == clip_bytes


async def test_expired_url_is_403(
    client: TestClient[Litestar], storage: LocalMediaStorage, clock: FakeClock
) -> None:
    url = await signed_url(storage)
    clock.advance(TTL_S)

    for response in (client.get(url), client.head(url)):
        assert response.status_code == 403
    assert client.get(url).json() == {"error": "invalid_token", "message": "the media URL has expired"}


async def test_forged_or_unsigned_urls_are_403(
    client: TestClient[Litestar], storage: LocalMediaStorage
) -> None:
    url = await signed_url(storage)
    forged = url[:-1] + ("0" if url[-1] != "0" else "1")
    other_file = url.replace("integrations-tour.mp4", "product-overview.mp4")

    for candidate in (forged, other_file, url.split("?")[0], f"{BASE_URL}/media/{CLIP}?expires=1&sig=abc"):
        response = client.get(candidate)
        assert response.status_code == 403, candidate
        assert response.json()["error"] == "invalid_token"


async def test_vanished_file_is_404(
    client: TestClient[Litestar], storage: LocalMediaStorage, tmp_path: Path
) -> None:
    url = await signed_url(storage)
    (tmp_path / "media" / CLIP).unlink()

    response = client.get(url)

    assert response.status_code == 404
    assert response.json()["error"] == "video_missing"
