"""SupabaseVideoStorage (STORAGE=supabase) through supabase-py's Storage client against the local Supabase,
with a controlled clock: a signed URL is reused while it stays valid for the whole video plus the safety
margin, re-signed before it would expire mid-video (10 min assumed when the duration is unknown), shared by
concurrent callers; errors are translated (missing object → VideoMissing naming bucket/path, anything
else → StorageUnavailable) and a failure is not cached; public mode checks existence; `prepare` creates the
bucket once and `put` uploads with the file's content type."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from demo_relay.adapters.storage.supabase import SAFETY_MARGIN_S, SupabaseVideoStorage
from demo_relay.adapters.supabase_connection import SupabaseConnection
from demo_relay.domain.errors import StorageUnavailable, VideoMissing
from demo_relay.domain.models import UNKNOWN_DURATION_CURRENT_S as UNKNOWN_DURATION_S
from demo_relay.domain.models import DemoVideo
from tests.support.fakes import FakeClock
from tests.support.supabase import RunningFakeSupabase, running_fake_supabase

BUCKET = "demo-videos"
TTL_S = 3600
VIDEO = DemoVideo("v1", "d1", "Product Overview", "d1/overview.mp4", 120.0)


@pytest.fixture
async def supabase() -> AsyncIterator[RunningFakeSupabase]:
    async with running_fake_supabase(buckets=(BUCKET,)) as fake:
        fake.fake.put_object(BUCKET, VIDEO.storage_path, b"mp4 bytes", "video/mp4")
        yield fake


@pytest.fixture
async def connection(supabase: RunningFakeSupabase) -> AsyncIterator[SupabaseConnection]:
    connection = SupabaseConnection(supabase.url, supabase.service_key)
    try:
        yield connection
    finally:
        await connection.aclose()


def storage(connection: SupabaseConnection, clock: FakeClock, mode: str = "signed", ttl_s: int = TTL_S):
    return SupabaseVideoStorage(connection.storage, BUCKET, mode, ttl_s, clock)


async def test_a_signed_url_is_reused_until_it_would_expire_during_the_video(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    clock = FakeClock()
    urls = storage(connection, clock)
    first = await urls.url_for(VIDEO)
    assert first.expires_at is not None and (first.expires_at - clock.now()).total_seconds() == TTL_S
    assert (await httpx.AsyncClient().get(first.url)).content == b"mp4 bytes"

    # Still valid for the whole video plus the margin: the same URL, no Storage call.
    clock.advance(TTL_S - VIDEO.duration_s - SAFETY_MARGIN_S)  # type: ignore[operator]
    assert (await urls.url_for(VIDEO)).url == first.url
    assert supabase.fake.sign_count(BUCKET, VIDEO.storage_path) == 1

    # One second later it would expire before the video ends: a fresh one.
    clock.advance(1)
    second = await urls.url_for(VIDEO)
    assert (second.expires_at - clock.now()).total_seconds() == TTL_S  # type: ignore[operator]
    assert supabase.fake.sign_count(BUCKET, VIDEO.storage_path) == 2


async def test_an_unknown_duration_counts_as_ten_minutes(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    clock = FakeClock()
    urls = storage(connection, clock)
    video = DemoVideo("v2", "d1", "Untimed", VIDEO.storage_path, None)
    first = await urls.url_for(video)
    clock.advance(TTL_S - UNKNOWN_DURATION_S - SAFETY_MARGIN_S)
    assert await urls.url_for(video) == first
    assert supabase.fake.sign_count(BUCKET, video.storage_path) == 1
    clock.advance(1)
    assert (await urls.url_for(video)).expires_at != first.expires_at
    assert supabase.fake.sign_count(BUCKET, video.storage_path) == 2


async def test_a_ttl_shorter_than_the_video_re_signs_every_time(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    urls = storage(connection, FakeClock(), ttl_s=60)  # shorter than the video: never reusable
    await urls.url_for(VIDEO)
    await urls.url_for(VIDEO)
    assert supabase.fake.sign_count(BUCKET, VIDEO.storage_path) == 2


async def test_concurrent_callers_share_one_storage_call_and_failures_are_not_cached(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    urls = storage(connection, FakeClock())
    supabase.fake.inject("storage", delay_s=0.2, times=1)
    results = await asyncio.gather(*(urls.url_for(VIDEO) for _ in range(20)))
    assert len({r.url for r in results}) == 1
    assert supabase.fake.sign_count(BUCKET, VIDEO.storage_path) == 1

    other = DemoVideo("v3", "d1", "Other", "d1/other.mp4", 10.0)
    supabase.fake.put_object(BUCKET, other.storage_path, b"x")
    supabase.fake.inject("storage", status=503, times=1)
    outcomes = await asyncio.gather(*(urls.url_for(other) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(o, StorageUnavailable) for o in outcomes)
    assert (await urls.url_for(other)).url  # the next call asks Storage again, and it has recovered


async def test_errors_are_translated(supabase: RunningFakeSupabase, connection: SupabaseConnection) -> None:
    urls = storage(connection, FakeClock())
    with pytest.raises(VideoMissing) as missing:
        await urls.url_for(DemoVideo("v4", "d1", "Gone", "d1/gone.mp4", 5.0))
    assert missing.value.details == {"path": f"{BUCKET}/d1/gone.mp4"}
    supabase.fake.inject("storage", down=True, times=1)
    with pytest.raises(StorageUnavailable, match="unreachable"):
        await urls.url_for(VIDEO)
    wrong_key = SupabaseConnection(supabase.url, "not-a-key")
    try:
        with pytest.raises(StorageUnavailable, match="refused"):
            await SupabaseVideoStorage(wrong_key.storage, BUCKET, "signed", TTL_S, FakeClock()).url_for(VIDEO)
    finally:
        await wrong_key.aclose()


async def test_public_mode_builds_the_public_url_and_checks_the_object(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    supabase.fake.buckets[BUCKET].public = True
    urls = storage(connection, FakeClock(), mode="public")
    url = await urls.url_for(VIDEO)
    assert url.expires_at is None
    assert url.url == f"{supabase.url}/storage/v1/object/public/{BUCKET}/{VIDEO.storage_path}"
    assert (await httpx.AsyncClient().get(url.url)).status_code == 200
    with pytest.raises(VideoMissing):
        await urls.url_for(DemoVideo("v5", "d1", "Gone", "d1/gone.mp4", 5.0))
    assert supabase.fake.stats.sign_total == 0


async def test_prepare_creates_the_bucket_once_and_put_uploads(
    supabase: RunningFakeSupabase, connection: SupabaseConnection, tmp_path: Path
) -> None:
    urls = SupabaseVideoStorage(connection.storage, "fresh-bucket", "signed", TTL_S, FakeClock())
    await urls.prepare()
    await urls.prepare()
    assert supabase.fake.buckets["fresh-bucket"].public is False
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    await urls.put(clip, "d9/clip.mp4")
    await urls.put(clip, "d9/clip.mp4")  # replacing is fine (upsert)
    stored = supabase.fake.get_object("fresh-bucket", "d9/clip.mp4")
    assert stored is not None and stored.content_type == "video/mp4" and stored.data == clip.read_bytes()


async def test_a_caller_that_goes_away_does_not_cancel_the_call_for_the_others(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    urls = storage(connection, FakeClock())
    supabase.fake.inject("storage", delay_s=0.3, times=1)
    first = asyncio.create_task(urls.url_for(VIDEO))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(urls.url_for(VIDEO))
    await asyncio.sleep(0.05)
    first.cancel()  # its HTTP request was cancelled by the client going away
    assert (await second).url
    assert first.cancelled()
    assert supabase.fake.sign_count(BUCKET, VIDEO.storage_path) == 1
    await urls.url_for(VIDEO)  # and the result was cached
    assert supabase.fake.sign_count(BUCKET, VIDEO.storage_path) == 1


async def test_a_bucket_that_cannot_be_created_is_storage_unavailable(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    # The bucket lookup answers "not found", then the connection drops on the create: a domain error
    # (502 for a caller, a clear start-up message for `serve`), never a raw httpx exception.
    urls = SupabaseVideoStorage(connection.storage, "new-bucket", "signed", TTL_S, FakeClock())
    supabase.fake.inject("storage", down=True, times=1, match="/storage/v1/bucket", method="POST")
    with pytest.raises(StorageUnavailable, match="unreachable"):
        await urls.prepare()
    await urls.prepare()  # recovered: created now
    assert "new-bucket" in supabase.fake.buckets


async def test_remove_deletes_the_object_and_a_missing_one_is_fine(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    urls = storage(connection, FakeClock())
    await urls.url_for(VIDEO)  # cached
    await urls.remove(VIDEO.storage_path)
    assert supabase.fake.get_object(BUCKET, VIDEO.storage_path) is None
    await urls.remove(VIDEO.storage_path)
    with pytest.raises(VideoMissing):  # the cached URL is not handed out for a removed object
        await urls.url_for(VIDEO)


async def test_closing_cancels_and_awaits_the_storage_calls_in_flight(
    supabase: RunningFakeSupabase, connection: SupabaseConnection
) -> None:
    urls = storage(connection, FakeClock())
    supabase.fake.inject("storage", delay_s=1.0, times=1)  # the fake's server waits this long anyway
    caller = asyncio.create_task(urls.url_for(VIDEO))
    await asyncio.sleep(0.1)
    in_flight = list(urls._in_flight.values())
    assert len(in_flight) == 1
    async with asyncio.timeout(0.5):  # not the second the call would take
        await urls.aclose()
    assert in_flight[0].done() and in_flight[0].cancelled()
    assert urls._in_flight == {}
    with pytest.raises(asyncio.CancelledError):
        await caller
