"""LocalMediaStorage: signed media URLs round-trip, and nothing else gets through.

Proves that a URL from `url_for` verifies in `open` until it expires (fake clock) and not a second after;
that changing the signature, the path, the expiry or the secret is refused with InvalidToken; that the key
is not the bare app secret (purpose separation); that storage paths which are not canonical or lead out of
the media directory (`..`, absolute, symlinks) are never served, even with a valid signature; that an absent
file is VideoMissing; and that `import_file` copies files in (atomically, creating directories) and rejects
unsafe paths."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from demo_relay.adapters.storage.local import LocalMediaStorage, MediaFile
from demo_relay.domain.errors import InvalidRequest, InvalidToken, VideoMissing
from demo_relay.domain.models import DemoVideo
from tests.support.fakes import FakeClock

BASE_URL = "http://media.test:8000"
SECRET = "app-secret-for-tests"
TTL_S = 600
CONTENT = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    (root / "demo-1").mkdir(parents=True)
    (root / "demo-1" / "clip.mp4").write_bytes(CONTENT)
    return root


@pytest.fixture
def storage(media_dir: Path, clock: FakeClock) -> LocalMediaStorage:
    return LocalMediaStorage(media_dir, BASE_URL + "/", SECRET, TTL_S, clock)


def video(storage_path: str) -> DemoVideo:
    return DemoVideo(id="v1", demo_id="demo-1", title="Clip", storage_path=storage_path)


def url_parts(url: str) -> tuple[str, str, str]:
    """(storage path, expires, sig) as the /media route would receive them."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    path = unquote(parts.path).removeprefix("/media/")
    return path, query["expires"][0], query["sig"][0]


async def test_url_round_trip(storage: LocalMediaStorage, clock: FakeClock, media_dir: Path) -> None:
    signed = await storage.url_for(video("demo-1/clip.mp4"))

    assert signed.url.startswith(f"{BASE_URL}/media/demo-1/clip.mp4?expires=")
    path, expires, sig = url_parts(signed.url)
    assert int(expires) == int(clock.now().timestamp()) + TTL_S
    assert signed.expires_at == clock.now() + timedelta(seconds=TTL_S)
    assert len(sig) == 64

    media = storage.open(path, expires, sig)
    assert isinstance(media, MediaFile)
    assert media.path == (media_dir / "demo-1" / "clip.mp4").resolve()
    assert media.size == len(CONTENT)
    assert media.content_type == "video/mp4"
    assert media.expires_at == signed.expires_at
    assert media.max_age_s == TTL_S


async def test_path_is_percent_encoded_and_round_trips(storage: LocalMediaStorage, media_dir: Path) -> None:
    (media_dir / "demo-1" / "my clip #1?.mp4").write_bytes(CONTENT)

    signed = await storage.url_for(video("demo-1/my clip #1?.mp4"))

    assert "/media/demo-1/my%20clip%20%231%3F.mp4?" in signed.url
    assert storage.open(*url_parts(signed.url)).size == len(CONTENT)


async def test_uppercase_hex_signature_is_accepted(storage: LocalMediaStorage) -> None:
    path, expires, sig = url_parts((await storage.url_for(video("demo-1/clip.mp4"))).url)

    assert storage.open(path, int(expires), sig.upper()).size == len(CONTENT)


async def test_tampered_signature_is_rejected(storage: LocalMediaStorage) -> None:
    path, expires, sig = url_parts((await storage.url_for(video("demo-1/clip.mp4"))).url)
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")

    with pytest.raises(InvalidToken):
        storage.open(path, expires, flipped)


async def test_signature_for_another_path_is_rejected(storage: LocalMediaStorage, media_dir: Path) -> None:
    (media_dir / "demo-1" / "other.mp4").write_bytes(b"other")
    _, expires, sig = url_parts((await storage.url_for(video("demo-1/clip.mp4"))).url)

    with pytest.raises(InvalidToken):
        storage.open("demo-1/other.mp4", expires, sig)


async def test_extended_expiry_is_rejected(storage: LocalMediaStorage) -> None:
    path, expires, sig = url_parts((await storage.url_for(video("demo-1/clip.mp4"))).url)

    with pytest.raises(InvalidToken):
        storage.open(path, str(int(expires) + 3600), sig)
    # Another spelling of the same number is not the signed string either.
    with pytest.raises(InvalidToken):
        storage.open(path, "0" + expires, sig)


@pytest.mark.parametrize(
    ("expires", "sig"),
    [(None, None), ("1700000000", None), (None, "a" * 64), ("soon", "a" * 64), ("1700000000", "zz" * 32)],
)
def test_missing_or_malformed_parameters_are_rejected(
    storage: LocalMediaStorage, expires: str | None, sig: str | None
) -> None:
    with pytest.raises(InvalidToken):
        storage.open("demo-1/clip.mp4", expires, sig)


async def test_url_from_another_secret_is_rejected(
    storage: LocalMediaStorage, media_dir: Path, clock: FakeClock
) -> None:
    other = LocalMediaStorage(media_dir, BASE_URL, "another-secret", TTL_S, clock)
    path, expires, sig = url_parts((await other.url_for(video("demo-1/clip.mp4"))).url)

    with pytest.raises(InvalidToken):
        storage.open(path, expires, sig)


async def test_key_is_derived_not_the_bare_secret(storage: LocalMediaStorage) -> None:
    path, expires, sig = url_parts((await storage.url_for(video("demo-1/clip.mp4"))).url)
    with_bare_secret = hmac.new(SECRET.encode(), f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    assert sig != with_bare_secret
    with pytest.raises(InvalidToken):
        storage.open(path, expires, with_bare_secret)


async def test_expired_url_is_rejected(storage: LocalMediaStorage, clock: FakeClock) -> None:
    path, expires, sig = url_parts((await storage.url_for(video("demo-1/clip.mp4"))).url)

    clock.advance(TTL_S - 1)
    assert storage.open(path, expires, sig).max_age_s == 1

    clock.advance(1)
    with pytest.raises(InvalidToken, match="expired"):
        storage.open(path, expires, sig)


async def test_missing_file_is_video_missing(storage: LocalMediaStorage, media_dir: Path) -> None:
    with pytest.raises(VideoMissing) as raised:
        await storage.url_for(video("demo-1/nope.mp4"))
    assert raised.value.code == "video_missing"
    assert raised.value.details == {"path": "demo-1/nope.mp4"}

    # A genuine URL whose file disappeared afterwards: the signature is fine, the file is not.
    path, expires, sig = url_parts((await storage.url_for(video("demo-1/clip.mp4"))).url)
    (media_dir / "demo-1" / "clip.mp4").unlink()
    with pytest.raises(VideoMissing):
        storage.open(path, expires, sig)


async def test_directory_is_not_a_video(storage: LocalMediaStorage) -> None:
    with pytest.raises(VideoMissing):
        await storage.url_for(video("demo-1"))


UNSAFE_PATHS = [
    "../outside.mp4",
    "demo-1/../../outside.mp4",
    "demo-1/../demo-1/clip.mp4",  # lands inside, but is not canonical: the signed string must name one file
    "/etc/passwd",
    "./demo-1/clip.mp4",
    "demo-1//clip.mp4",
    "demo-1/clip.mp4/",
    "demo-1\\clip.mp4",
    "demo-1/clip\x00.mp4",
    "",
]


@pytest.mark.parametrize("storage_path", UNSAFE_PATHS)
async def test_unsafe_paths_are_never_signed(
    storage: LocalMediaStorage, tmp_path: Path, storage_path: str
) -> None:
    (tmp_path / "outside.mp4").write_bytes(b"secret")

    with pytest.raises(VideoMissing):
        await storage.url_for(video(storage_path))


@pytest.mark.parametrize("storage_path", UNSAFE_PATHS)
def test_unsafe_paths_are_not_served_even_with_a_valid_signature(
    storage: LocalMediaStorage, clock: FakeClock, tmp_path: Path, storage_path: str
) -> None:
    """Defence in depth: a leaked secret still would not open files outside the media directory."""
    (tmp_path / "outside.mp4").write_bytes(b"secret")
    expires = int(clock.now().timestamp()) + 60

    with pytest.raises(VideoMissing):
        storage.open(storage_path, expires, storage.signature(storage_path, expires))


async def test_symlink_leading_out_is_refused(
    storage: LocalMediaStorage, media_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "outside.mp4").write_bytes(b"secret")
    (media_dir / "demo-1" / "escape.mp4").symlink_to(tmp_path / "outside.mp4")
    (media_dir / "escape-dir").symlink_to(tmp_path, target_is_directory=True)

    with pytest.raises(VideoMissing):
        await storage.url_for(video("demo-1/escape.mp4"))
    with pytest.raises(VideoMissing):
        await storage.url_for(video("escape-dir/outside.mp4"))


async def test_symlink_inside_the_store_is_allowed(storage: LocalMediaStorage, media_dir: Path) -> None:
    (media_dir / "demo-1" / "alias.mp4").symlink_to(media_dir / "demo-1" / "clip.mp4")

    media = storage.open(*url_parts((await storage.url_for(video("demo-1/alias.mp4"))).url))

    assert media.path == (media_dir / "demo-1" / "clip.mp4").resolve()


async def test_import_file_copies_into_new_directories(
    storage: LocalMediaStorage, media_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "upload.mp4"
    source.write_bytes(b"first version")

    storage.import_file(source, "demo-2/sub/intro.mp4")
    assert (media_dir / "demo-2" / "sub" / "intro.mp4").read_bytes() == b"first version"

    source.write_bytes(b"second version")
    storage.import_file(source, "demo-2/sub/intro.mp4")
    assert (media_dir / "demo-2" / "sub" / "intro.mp4").read_bytes() == b"second version"
    assert sorted(p.name for p in (media_dir / "demo-2" / "sub").iterdir()) == ["intro.mp4"]  # no temp files

    media = storage.open(*url_parts((await storage.url_for(video("demo-2/sub/intro.mp4"))).url))
    assert media.size == len(b"second version")


async def test_a_consumed_scratch_file_is_moved_in_not_copied(
    storage: LocalMediaStorage, media_dir: Path, tmp_path: Path
) -> None:
    scratch = tmp_path / "upload-1.part"
    scratch.write_bytes(b"uploaded bytes")
    inode = scratch.stat().st_ino
    await storage.put(scratch, "demo-3/clip.mp4", "video/mp4", consume=True)
    stored = media_dir / "demo-3" / "clip.mp4"
    assert stored.read_bytes() == b"uploaded bytes" and not scratch.exists()
    assert stored.stat().st_ino == inode  # the same file, renamed: the bytes were written once
    assert oct(stored.stat().st_mode & 0o777) == "0o644"  # servable
    kept = tmp_path / "sample.mp4"
    kept.write_bytes(b"a sample")
    await storage.put(kept, "demo-3/sample.mp4")
    assert kept.exists()  # without `consume` the source is the caller's


def test_import_file_creates_the_media_dir(tmp_path: Path, clock: FakeClock) -> None:
    storage = LocalMediaStorage(tmp_path / "not-yet", BASE_URL, SECRET, TTL_S, clock)
    source = tmp_path / "upload.mp4"
    source.write_bytes(b"x")

    storage.import_file(source, "d/a.mp4")

    assert (tmp_path / "not-yet" / "d" / "a.mp4").read_bytes() == b"x"


@pytest.mark.parametrize("storage_path", ["../escape.mp4", "/abs.mp4", "a/../b.mp4", ""])
def test_import_file_rejects_unsafe_paths(
    storage: LocalMediaStorage, tmp_path: Path, storage_path: str
) -> None:
    source = tmp_path / "upload.mp4"
    source.write_bytes(b"x")

    with pytest.raises(InvalidRequest):
        storage.import_file(source, storage_path)
    assert not (tmp_path / "escape.mp4").exists()


def test_import_file_needs_an_existing_source(storage: LocalMediaStorage, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        storage.import_file(tmp_path / "absent.mp4", "demo-1/absent.mp4")


def test_constructor_refuses_an_empty_secret(media_dir: Path, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="secret"):
        LocalMediaStorage(media_dir, BASE_URL, "", TTL_S, clock)
