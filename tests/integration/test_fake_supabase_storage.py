"""The fake Supabase Storage, checked by supabase-py's official storage3 client (and httpx for the URLs it
hands out): buckets, uploads, signed and public URLs with Range support, exists/info, and the real error
shapes (a missing object is StorageApiError with status "404")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from storage3.exceptions import StorageApiError
from supabase import AsyncClient, acreate_client

from tests.support.supabase import RunningFakeSupabase, running_fake_supabase

VIDEO = bytes(range(256)) * 40  # 10 KiB standing in for an MP4


@pytest.fixture
async def supabase_fake() -> AsyncIterator[RunningFakeSupabase]:
    async with running_fake_supabase(buckets=("videos", "posters:public")) as running:
        yield running


@pytest.fixture
async def client(supabase_fake: RunningFakeSupabase) -> AsyncClient:
    return await acreate_client(supabase_fake.url, supabase_fake.service_key)


async def test_buckets_create_get_and_duplicate(client: AsyncClient) -> None:
    created = await client.storage.create_bucket("clips", options={"public": False})
    assert created == {"name": "clips"}
    bucket = await client.storage.get_bucket("clips")
    assert (bucket.id, bucket.name, bucket.public) == ("clips", "clips", False)
    assert {b.id for b in await client.storage.list_buckets()} == {"videos", "posters", "clips"}

    with pytest.raises(StorageApiError) as duplicate:
        await client.storage.create_bucket("clips")
    assert (duplicate.value.status, duplicate.value.code) == ("409", "Duplicate")
    with pytest.raises(StorageApiError) as missing:
        await client.storage.get_bucket("nope")
    assert (missing.value.status, missing.value.message) == ("404", "Bucket not found")


async def test_upload_sign_and_download_with_ranges(
    client: AsyncClient, supabase_fake: RunningFakeSupabase
) -> None:
    bucket = client.storage.from_("videos")
    uploaded = await bucket.upload("demo-1/intro.mp4", VIDEO, {"content-type": "video/mp4"})
    assert uploaded.full_path == "videos/demo-1/intro.mp4"

    signed = await bucket.create_signed_url("demo-1/intro.mp4", 60)
    url = signed["signedURL"]
    assert url.startswith(f"{supabase_fake.url}/storage/v1/object/sign/videos/demo-1/intro.mp4?token=")
    async with httpx.AsyncClient() as http:
        whole = await http.get(url)
        assert whole.status_code == 200
        assert whole.content == VIDEO
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.headers["accept-ranges"] == "bytes"

        part = await http.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.content == VIDEO[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(VIDEO)}"
        tail = await http.get(url, headers={"Range": "bytes=-10"})
        assert (tail.status_code, tail.content) == (206, VIDEO[-10:])

        unsatisfiable = await http.get(url, headers={"Range": f"bytes={len(VIDEO)}-"})
        assert unsatisfiable.status_code == 416
        head = await http.head(url)
        assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(len(VIDEO)))

        tampered = await http.get(url.replace("intro.mp4", "other.mp4"))
        assert tampered.status_code == 400
        assert tampered.json()["error"] in ("InvalidSignature", "InvalidJWT")
    assert supabase_fake.fake.sign_count("videos", "demo-1/intro.mp4") == 1


async def test_missing_object_raises_storage_api_error_404(client: AsyncClient) -> None:
    with pytest.raises(StorageApiError) as raised:
        await client.storage.from_("videos").create_signed_url("demo-1/missing.mp4", 60)
    assert raised.value.status == "404"
    assert raised.value.code == "not_found"
    assert raised.value.message == "Object not found"


async def test_public_url_downloads_only_from_public_buckets(
    client: AsyncClient, supabase_fake: RunningFakeSupabase
) -> None:
    await client.storage.from_("posters").upload("demo-1/poster.jpg", b"jpeg", {"content-type": "image/jpeg"})
    await client.storage.from_("videos").upload("demo-1/a.mp4", VIDEO, {"content-type": "video/mp4"})
    public_url = await client.storage.from_("posters").get_public_url("demo-1/poster.jpg")
    assert public_url == f"{supabase_fake.url}/storage/v1/object/public/posters/demo-1/poster.jpg"
    async with httpx.AsyncClient() as http:
        ok = await http.get(public_url)
        assert (ok.status_code, ok.content, ok.headers["content-type"]) == (200, b"jpeg", "image/jpeg")
        private = await http.get(await client.storage.from_("videos").get_public_url("demo-1/a.mp4"))
        assert private.status_code == 400
        assert private.json()["statusCode"] == "404"


async def test_exists_info_and_authenticated_download(client: AsyncClient) -> None:
    bucket = client.storage.from_("videos")
    await bucket.upload("demo-2/b.mp4", VIDEO, {"content-type": "video/mp4", "upsert": "true"})
    assert await bucket.exists("demo-2/b.mp4") is True
    assert await bucket.exists("demo-2/nope.mp4") is False
    info = await bucket.info("demo-2/b.mp4")
    assert (info["size"], info["content_type"], info["bucket_id"]) == (len(VIDEO), "video/mp4", "videos")
    assert await bucket.download("demo-2/b.mp4") == VIDEO

    with pytest.raises(StorageApiError) as duplicate:
        await bucket.upload("demo-2/b.mp4", b"again", {"content-type": "video/mp4"})
    assert (duplicate.value.status, duplicate.value.code) == ("409", "Duplicate")
    await bucket.upload("demo-2/b.mp4", b"again", {"content-type": "video/mp4", "upsert": "true"})
    assert await bucket.download("demo-2/b.mp4") == b"again"


async def test_wrong_keys_are_refused(supabase_fake: RunningFakeSupabase) -> None:
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl"
    bad_client = await acreate_client(supabase_fake.url, forged)
    async with httpx.AsyncClient(base_url=f"{supabase_fake.url}/storage/v1") as http:
        no_key = await http.get("/bucket")
        assert (no_key.status_code, no_key.json()) == (401, {"message": "No API key found in request"})
        bad_jwt = await http.get(
            "/bucket", headers={"apikey": supabase_fake.anon_key, "Authorization": f"Bearer {forged}"}
        )
        assert bad_jwt.status_code == 400
        assert bad_jwt.json()["statusCode"] == "403"
        anon = await http.post(
            "/bucket",
            json={"id": "x", "name": "x"},
            headers={"apikey": supabase_fake.anon_key, "Authorization": f"Bearer {supabase_fake.anon_key}"},
        )
        assert anon.json()["statusCode"] == "403"
    with pytest.raises(StorageApiError) as raised:
        await bad_client.storage.list_buckets()
    assert raised.value.status == 401
