"""The owner API (DESIGN §11) through the real app on real Postgres with local storage: demos created,
changed and deleted; videos uploaded (real MP4 and WebM; a non-video named .mp4 is 415, an oversized one
413, both leaving no row, object or temporary file), renamed and deleted, each change seen by the tool
definition and the webhook; the conversations with what played; and every route without, and with a
wrong, owner token."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from demo_relay.adapters.sample_clips import SAMPLES_DIR
from tests.support.app import (
    ADMIN_TOKEN,
    CONVERSATION,
    SeededApp,
    make_settings,
    owner_headers,
    tavus_headers,
)
from tests.support.media import webm_bytes
from tests.support.server import free_port, running

MP4 = SAMPLES_DIR / "product-overview.mp4"  # 6 s


@pytest.fixture
async def app(tmp_path: Path, database_url: str, db_pool: asyncpg.Pool) -> SeededApp:
    return SeededApp(make_settings(tmp_path, database_url, max_video_bytes=200_000), database_url)


@pytest.fixture
async def client(app: SeededApp):  # type: ignore[no-untyped-def]
    async with AsyncTestClient(app.app) as test_client:
        yield test_client


def media_dir(app: SeededApp) -> Path:
    return Path(app.settings.data_dir) / "media"


def uploads_dir(app: SeededApp) -> Path:
    return Path(app.settings.data_dir) / "tmp" / "uploads"


def leftovers(app: SeededApp) -> list[str]:
    return [p.name for p in uploads_dir(app).glob("*")] if uploads_dir(app).exists() else []


async def create(client: AsyncTestClient[Any], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/demos", json={"name": "Acme tour", **body}, headers=owner_headers())
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def upload(
    client: AsyncTestClient[Any], demo_id: str, content: bytes, filename: str, title: str | None = None
) -> Any:
    data = {} if title is None else {"title": title}
    return await client.post(
        f"/api/demos/{demo_id}/videos",
        files={"file": (filename, content, "application/octet-stream")},
        data=data,
        headers=owner_headers(),
    )


async def play(client: AsyncTestClient[Any], demo_id: str, title: str, call_id: str) -> Any:
    body = json.dumps(
        {
            "event_type": "conversation.tool_call",
            "conversation_id": CONVERSATION,
            "properties": {
                "name": "play_video",
                "tool_call_id": call_id,
                "arguments": json.dumps({"video_title": title}),
            },
        }
    ).encode()
    return await client.post(
        "/api/tavus-webhook", content=body, headers=tavus_headers(body), params={"demo_id": demo_id}
    )


async def test_the_page_checks_a_sign_in_with_api_owner(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/api/owner", headers=owner_headers())).json() == {"owner": "admin token"}
    config = (await client.get("/api/auth-config")).json()
    # No OWNER_EMAILS, local storage, no TAVUS_API_KEY.
    assert config == {
        "supabase": None,
        "direct_uploads": None,
        "tavus": {"enabled": False, "delivery": "app_message"},
    }


async def test_an_owner_creates_changes_and_lists_a_demo(client: AsyncTestClient[Any]) -> None:
    demo = await create(client, tavus={"persona_id": "p9a1b2"}, public_start=True)
    assert demo["name"] == "Acme tour" and demo["videos"] == [] and demo["public_start"] is True
    assert demo["tavus"] == {
        "persona_id": "p9a1b2",
        "replica_id": None,
        "sync": {"state": "off", "synced_at": None, "error": None},
    }
    changed = await client.patch(
        f"/api/demos/{demo['id']}",
        json={"name": " Acme  2 ", "tavus": {"persona_id": None}},
        headers=owner_headers(),
    )
    assert changed.status_code == 200, changed.text
    assert (
        changed.json()["name"],
        changed.json()["tavus"]["persona_id"],
        changed.json()["public_start"],
    ) == ("Acme 2", None, True)
    listed = (await client.get(f"/api/demos/{demo['id']}")).json()
    assert listed["name"] == "Acme 2"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "   "}, 400, "name"),
        ({}, 400, "name"),
        ({"name": "x", "public_start": 0}, 400, "public_start"),
    ],
)
async def test_bad_demo_bodies_change_nothing(
    client: AsyncTestClient[Any], db_pool: asyncpg.Pool, body: dict[str, Any], status: int, field: str
) -> None:
    before = await db_pool.fetchval("select count(*) from demos")
    response = await client.post("/api/demos", json=body, headers=owner_headers())
    assert response.status_code == status, response.text
    assert response.json()["error"] == "invalid_request"
    assert field in json.dumps(response.json())
    assert await db_pool.fetchval("select count(*) from demos") == before


async def test_uploads_of_real_mp4_and_webm_read_type_and_duration(
    client: AsyncTestClient[Any], app: SeededApp
) -> None:
    demo = await create(client)
    mp4 = await upload(client, demo["id"], MP4.read_bytes(), "Product tour.mp4")
    assert mp4.status_code == 201, mp4.text
    assert {k: mp4.json()[k] for k in ("title", "duration_s", "size_bytes", "content_type")} == {
        "title": "Product tour",  # the file name without its extension
        "duration_s": 6.0,
        "size_bytes": MP4.stat().st_size,
        "content_type": "video/mp4",
    }
    webm = await upload(client, demo["id"], webm_bytes(7.5), "clip.bin", title="  Screen   recording ")
    assert webm.status_code == 201, webm.text
    assert (webm.json()["title"], webm.json()["duration_s"], webm.json()["content_type"]) == (
        "Screen recording",
        7.5,
        "video/webm",
    )
    tool = (await client.get(f"/api/demos/{demo['id']}/tool")).json()
    assert sorted(tool["function"]["function"]["parameters"]["properties"]["video_title"]["enum"]) == [
        "Product tour",
        "Screen recording",
    ]
    played = await play(client, demo["id"], "screen recording", "call_webm")
    assert played.status_code == 200, played.text
    served = await client.get(played.json()["video"]["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200 and served.content == webm_bytes(7.5)
    assert leftovers(app) == []


async def test_refused_uploads_leave_nothing_behind(
    client: AsyncTestClient[Any], app: SeededApp, db_pool: asyncpg.Pool
) -> None:
    demo = await create(client)
    objects_before = sorted(p.name for p in media_dir(app).rglob("*") if p.is_file())
    cases = [
        (b"just some text, not a video", "notes.mp4", None, 415, "unsupported_media_type"),
        (webm_bytes(doctype=b"matroska"), "film.webm", None, 415, "unsupported_media_type"),
        (b"\x00\x00\x00\x18ftypisom" + b"\x00" * 250_000, "huge.mp4", None, 413, "video_too_large"),
        (MP4.read_bytes(), "x.mp4", "\x00", 422, "invalid_request"),
    ]
    for content, name, title, status, error in cases:
        response = await upload(client, demo["id"], content, name, title)
        assert (response.status_code, response.json()["error"]) == (status, error), (name, response.text)
    missing = await client.post(
        f"/api/demos/{demo['id']}/videos", files={"title": (None, "x")}, headers=owner_headers()
    )
    assert missing.status_code == 422 and missing.json()["field"] == "file", missing.text
    not_multipart = await client.post(
        f"/api/demos/{demo['id']}/videos", json={"title": "x"}, headers=owner_headers()
    )
    assert not_multipart.status_code == 400 and not_multipart.json()["error"] == "invalid_request"
    assert (
        await db_pool.fetchval("select count(*) from demo_videos where demo_id = $1::uuid", demo["id"]) == 0
    )
    assert sorted(p.name for p in media_dir(app).rglob("*") if p.is_file()) == objects_before
    assert leftovers(app) == []


async def test_direct_uploads_need_supabase_storage(client: AsyncTestClient[Any]) -> None:
    demo = await create(client)
    response = await client.post(
        f"/api/demos/{demo['id']}/videos/direct", json={"filename": "a.mp4"}, headers=owner_headers()
    )
    # Not offered with local storage (nor in its OpenAPI document): POST on a video's path is 405.
    assert response.status_code == 405
    assert (await client.get("/api/auth-config")).json()["direct_uploads"] is None
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/demos/{demo_id}/videos/direct" not in schema["paths"]


async def test_a_declared_oversized_upload_is_refused_before_its_body_is_read(
    client: AsyncTestClient[Any], app: SeededApp
) -> None:
    demo = await create(client)
    response = await client.post(
        f"/api/demos/{demo['id']}/videos",
        content=b"--x\r\n",
        headers={
            **owner_headers(),
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(10**10),
        },
    )
    assert response.status_code == 413 and response.json()["error"] == "video_too_large"
    assert leftovers(app) == []


async def test_titles_are_unique_however_cased_and_renames_reach_the_webhook(
    client: AsyncTestClient[Any],
) -> None:
    demo = await create(client)
    first = (await upload(client, demo["id"], MP4.read_bytes(), "a.mp4", "Pricing")).json()
    await upload(client, demo["id"], MP4.read_bytes(), "b.mp4", "Security")
    twin = await upload(client, demo["id"], MP4.read_bytes(), "c.mp4", "  PRICING ")
    assert twin.status_code == 409 and twin.json()["error"] == "title_conflict"
    clash = await client.patch(
        f"/api/demos/{demo['id']}/videos/{first['id']}", json={"title": "security"}, headers=owner_headers()
    )
    assert clash.status_code == 409 and clash.json()["error"] == "title_conflict"
    blank = await client.patch(
        f"/api/demos/{demo['id']}/videos/{first['id']}", json={"title": "  "}, headers=owner_headers()
    )
    assert blank.status_code == 400
    renamed = await client.patch(
        f"/api/demos/{demo['id']}/videos/{first['id']}",
        json={"title": "Pricing 2027"},
        headers=owner_headers(),
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Pricing 2027"
    played = await play(client, demo["id"], "Pricing 2027", "call_renamed")
    assert played.json()["video"]["id"] == first["id"]
    enum = (await client.get(f"/api/demos/{demo['id']}/tool")).json()["function"]["function"]["parameters"][
        "properties"
    ]["video_title"]["enum"]
    assert sorted(enum) == ["Pricing 2027", "Security"]


async def test_deleting_a_video_removes_its_object_and_the_webhook_suggests_the_rest(
    client: AsyncTestClient[Any], app: SeededApp
) -> None:
    demo = await create(client)
    video = (await upload(client, demo["id"], MP4.read_bytes(), "a.mp4", "Pricing")).json()
    await upload(client, demo["id"], MP4.read_bytes(), "b.mp4", "Security")
    stored = [p for p in media_dir(app).rglob("*.mp4") if demo["id"] in str(p)]
    assert len(stored) == 2
    deleted = await client.delete(f"/api/demos/{demo['id']}/videos/{video['id']}", headers=owner_headers())
    assert deleted.status_code == 204
    assert len([p for p in stored if p.exists()]) == 1
    again = await client.delete(f"/api/demos/{demo['id']}/videos/{video['id']}", headers=owner_headers())
    assert again.status_code == 404 and again.json()["error"] == "unknown_video"
    missed = await play(client, demo["id"], "Pricing", "call_deleted")
    assert missed.status_code == 404 and missed.json()["error"] == "video_not_found"
    assert missed.json()["suggestions"] == ["Security"]


async def test_deleting_a_demo_removes_its_objects_and_conversations(
    client: AsyncTestClient[Any], app: SeededApp, db_pool: asyncpg.Pool
) -> None:
    demo = await create(client)
    await upload(client, demo["id"], MP4.read_bytes(), "a.mp4", "Pricing")
    session = await client.post(
        f"/api/demos/{demo['id']}/sessions", json={"conversation_id": "c-gone"}, headers=owner_headers()
    )
    assert session.status_code == 201
    assert (await play(client, demo["id"], "Pricing", "call_before")).status_code == 200
    deleted = await client.delete(f"/api/demos/{demo['id']}", headers=owner_headers())
    assert deleted.status_code == 204
    assert [p for p in media_dir(app).rglob("*") if demo["id"] in str(p) and p.is_file()] == []
    for table in ("conversations", "video_plays", "demo_videos"):
        assert (
            await db_pool.fetchval(f"select count(*) from {table} where demo_id = $1::uuid", demo["id"]) == 0
        )
    assert (await client.get(f"/api/demos/{demo['id']}")).status_code == 404
    missed = await play(client, demo["id"], "Pricing", "call_after")
    assert missed.status_code == 404 and missed.json()["error"] == "unknown_demo"
    assert (await client.delete(f"/api/demos/{demo['id']}", headers=owner_headers())).status_code == 404


async def test_conversations_list_what_played_newest_first(client: AsyncTestClient[Any]) -> None:
    demo = await create(client)
    await upload(client, demo["id"], MP4.read_bytes(), "a.mp4", "Pricing")
    await upload(client, demo["id"], webm_bytes(), "b.webm", "Security")
    for conversation in ("c-old", CONVERSATION):
        response = await client.post(
            f"/api/demos/{demo['id']}/sessions",
            json={"conversation_id": conversation},
            headers=owner_headers(),
        )
        assert response.status_code == 201
    await play(client, demo["id"], "Pricing", "call_1")
    await play(client, demo["id"], "Security", "call_2")
    await play(client, demo["id"], "Security", "call_2")  # a repeated delivery is one play
    history = await client.get(f"/api/demos/{demo['id']}/conversations", headers=owner_headers())
    assert history.status_code == 200, history.text
    newest, oldest = history.json()
    assert (newest["conversation_id"], newest["status"], oldest["conversation_id"]) == (
        CONVERSATION,
        "active",
        "c-old",
    )
    assert [p["title"] for p in newest["plays"]] == ["Pricing", "Security"] and oldest["plays"] == []
    assert all(p["video_id"] and p["played_at"] for p in newest["plays"])


OWNER_ROUTES = [
    ("POST", "/api/demos", {"json": {"name": "x"}}),
    ("PATCH", "/api/demos/{demo}", {"json": {"name": "x"}}),
    ("DELETE", "/api/demos/{demo}", {}),
    ("POST", "/api/demos/{demo}/videos", {"files": {"file": ("a.mp4", b"x", "video/mp4")}}),
    ("PATCH", "/api/demos/{demo}/videos/{video}", {"json": {"title": "x"}}),
    ("DELETE", "/api/demos/{demo}/videos/{video}", {}),
    ("GET", "/api/demos/{demo}/conversations", {}),
    ("POST", "/api/demos/{demo}/watch", {}),
    ("GET", "/api/owner", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), OWNER_ROUTES)
@pytest.mark.parametrize(
    "headers", [{}, {"authorization": "Bearer not-the-owner-token-0123"}, {"authorization": "Basic eDp5"}]
)
async def test_owner_routes_refuse_no_and_wrong_tokens(
    client: AsyncTestClient[Any],
    app: SeededApp,
    db_pool: asyncpg.Pool,
    method: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    demo = app.demo_id
    video = await db_pool.fetchval("select id::text from demo_videos where demo_id = $1::uuid limit 1", demo)
    before = await db_pool.fetch(
        "select id, name from demos union all select id, title from demo_videos order by 1"
    )
    response = await client.request(method, path.format(demo=demo, video=video), headers=headers, **body)
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    after = await db_pool.fetch(
        "select id, name from demos union all select id, title from demo_videos order by 1"
    )
    assert after == before


async def test_an_interrupted_upload_leaves_nothing_behind(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    """On a real socket: the client sends the head and part of the file, then drops the connection. The
    service stops reading, removes its temporary file, and lists nothing."""
    port = free_port()
    seeded = SeededApp(make_settings(tmp_path, database_url, port=port), database_url)
    async with running(seeded.app, port):
        boundary = "interrupted-boundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nHalf\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        declared = len(head) + 5_000_000
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"POST /api/demos/{seeded.demo_id}/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {ADMIN_TOKEN}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {declared}\r\n\r\n"
            ).encode()
            + head
            + MP4.read_bytes()
            + bytes(2_000_000)
        )
        await writer.drain()
        uploads = Path(seeded.settings.data_dir) / "tmp" / "uploads"
        for _ in range(100):  # the service has started writing the file
            if uploads.exists() and any(uploads.iterdir()):
                break
            await asyncio.sleep(0.02)
        assert any(uploads.iterdir()), "the upload never reached the service"
        writer.transport.abort()  # the connection drops mid-body
        for _ in range(250):
            if not any(uploads.iterdir()):
                break
            await asyncio.sleep(0.02)
        assert list(uploads.iterdir()) == []
        del reader
    videos = await db_pool.fetchval("select count(*) from demo_videos where title = 'Half'")
    assert videos == 0
    media = Path(seeded.settings.data_dir) / "media" / seeded.demo_id
    assert not any("half" in p.name for p in media.glob("*"))
