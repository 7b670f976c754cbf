"""Every HTTP route and error of the HTTP API through the real app (real container, real Postgres, local
storage), with Litestar's test client: the webhook's three authentication schemes and its answers in the
documented order of checks, dedupe, sessions, demos, the tool definition, health, metrics and OpenAPI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from demo_relay.adapters.sample_clips import SAMPLES_DIR
from tests.support.app import (
    CONVERSATION,
    SECRET,
    SeededApp,
    make_settings,
    owner_headers,
    play_video_body,
    standard_webhook_headers,
    tavus_headers,
)
from tests.support.tavus_fixtures import fixture_bytes

WEBHOOK = "/api/tavus-webhook"


@pytest.fixture
async def seeded(tmp_path: Path, database_url: str, db_pool: asyncpg.Pool) -> SeededApp:
    return SeededApp(make_settings(tmp_path, database_url), database_url)


@pytest.fixture
async def client(seeded: SeededApp) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(seeded.app) as test_client:
        yield test_client


@pytest.fixture
async def session(client: AsyncTestClient[Any], seeded: SeededApp) -> dict[str, Any]:
    response = await client.post(
        f"/api/demos/{seeded.demo_id}/sessions",
        headers=owner_headers(),
        json={"conversation_id": CONVERSATION},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def post_signed(client: AsyncTestClient[Any], body: bytes, **params: str) -> Any:
    return await client.post(WEBHOOK, content=body, headers=tavus_headers(body), params=params)


# --- demos, sessions, tool ----------------------------------------------------------------------


async def test_demos_list_the_seeded_demo_with_its_videos(
    client: AsyncTestClient[Any], seeded: SeededApp
) -> None:
    response = await client.get("/api/demos")
    assert response.status_code == 200
    [demo] = response.json()
    assert demo["id"] == seeded.demo_id
    assert {v["title"] for v in demo["videos"]} == {
        "Product Overview",
        "Pricing Walkthrough",
        "Integrations tour",
    }
    assert all(5 <= v["duration_s"] <= 15 and v["id"] for v in demo["videos"])
    one = await client.get(f"/api/demos/{seeded.demo_id}")
    assert one.status_code == 200 and one.json() == demo


@pytest.mark.parametrize("demo_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
async def test_unknown_demo_is_404(client: AsyncTestClient[Any], demo_id: str) -> None:
    for response in (
        await client.get(f"/api/demos/{demo_id}"),
        await client.get(f"/api/demos/{demo_id}/tool"),
        await client.post(
            f"/api/demos/{demo_id}/sessions", headers=owner_headers(), json={"conversation_id": "c1"}
        ),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == "unknown_demo"


async def test_session_answers_the_channel_transport_and_a_token(
    session: dict[str, Any], seeded: SeededApp
) -> None:
    channel = f"demo-{seeded.demo_id}"
    assert session["channel"] == channel
    assert session["transport"] == "websocket"
    assert session["websocket"]["url"] == f"ws://127.0.0.1:8000/ws/{channel}"
    assert session["websocket"]["token"]
    assert session["supabase"] is None


async def test_a_conversation_cannot_be_diverted_to_another_demo(
    client: AsyncTestClient[Any], session: dict[str, Any], db_pool: asyncpg.Pool
) -> None:
    other = await db_pool.fetchval("insert into demos (name) values ('Other') returning id::text")
    response = await client.post(
        f"/api/demos/{other}/sessions", headers=owner_headers(), json={"conversation_id": CONVERSATION}
    )
    assert response.status_code == 409 and response.json()["error"] == "conversation_conflict"
    again = await client.post(
        f"/api/demos/{session['demo_id']}/sessions",
        headers=owner_headers(),
        json={"conversation_id": CONVERSATION},
    )
    assert again.status_code == 201  # the same demo again (a page reload) is fine


async def test_an_ended_conversation_gets_no_new_session(
    client: AsyncTestClient[Any], session: dict[str, Any], db_pool: asyncpg.Pool
) -> None:
    body = fixture_bytes("system.shutdown.json")
    assert (
        await client.post("/api/tavus-webhook", content=body, headers=tavus_headers(body))
    ).status_code == 200
    ended = await db_pool.fetchrow(
        "select status, ended_at from conversations where conversation_id = $1", CONVERSATION
    )
    again = await client.post(
        f"/api/demos/{session['demo_id']}/sessions",
        headers=owner_headers(),
        json={"conversation_id": CONVERSATION},
    )
    assert again.status_code == 409 and again.json()["error"] == "conversation_ended"
    after = await db_pool.fetchrow(
        "select status, ended_at from conversations where conversation_id = $1", CONVERSATION
    )
    assert after == ended  # still ended: Tavus never restarts a conversation


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"conversation_id": ""},
        {"conversation_id": "has space"},
        {"conversation_id": 7},
        [1],
        {"conversation_id": "c", "conversation_url": "javascript:x"},
        # Framed with camera and microphone allowed: phishing on our origin unless it is a Daily room.
        {"conversation_id": "c", "conversation_url": "https://login.example.com/sign-in"},
        {"conversation_id": "c", "conversation_url": "http://tavus.daily.co/room"},
    ],
)
async def test_bad_session_bodies_are_refused_with_a_named_problem(
    client: AsyncTestClient[Any], seeded: SeededApp, body: Any
) -> None:
    response = await client.post(f"/api/demos/{seeded.demo_id}/sessions", headers=owner_headers(), json=body)
    assert response.status_code in (400, 422)
    assert response.json()["error"] in ("invalid_request",)
    assert "message" in response.json()


async def test_tool_definition_enumerates_the_demo_titles(
    client: AsyncTestClient[Any], seeded: SeededApp
) -> None:
    response = await client.get(f"/api/demos/{seeded.demo_id}/tool")
    assert response.status_code == 200
    tool = response.json()
    function = tool["function"]["function"]
    assert tool["function"]["type"] == "function" and function["name"] == "play_video"
    enum = function["parameters"]["properties"]["video_title"]["enum"]
    assert sorted(enum) == ["Integrations tour", "Pricing Walkthrough", "Product Overview"]
    assert function["parameters"]["required"] == ["video_title"]
    tavus = tool["tavus_tool"]
    # Registry names are unique per Tavus account: the demo's tool carries its id's first 8 hex digits.
    assert tavus["name"] == f"play_video_{seeded.demo_id.replace('-', '')[:8]}"
    assert tavus["parameters"] == function["parameters"]
    assert tavus["on_resolve"] == "generate_response"  # the agent hears our `output`
    assert tavus["delivery"]["api"] == {
        "url": f"http://127.0.0.1:8000/api/tavus-webhook?demo_id={seeded.demo_id}",
        "method": "POST",
        "auth": {"type": "hmac"},
    }


# --- the webhook: success paths -----------------------------------------------------------------


async def test_signed_fixture_plays_and_the_url_serves_the_video(
    client: AsyncTestClient[Any], session: dict[str, Any], seeded: SeededApp
) -> None:
    response = await post_signed(client, fixture_bytes("tool_call.play_video.json"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "played"
    assert body["demo_id"] == seeded.demo_id and body["channel"] == f"demo-{seeded.demo_id}"
    assert body["video"]["title"] == "Product Overview"
    assert body["delivered_via"] == ["websocket"]
    assert "Product Overview" in body["output"]
    media = await client.get(body["video"]["url"].removeprefix("http://127.0.0.1:8000"))
    assert media.status_code == 200 and media.headers["content-type"] == "video/mp4"
    part = await client.get(
        body["video"]["url"].removeprefix("http://127.0.0.1:8000"), headers={"range": "bytes=0-99"}
    )
    assert part.status_code == 206 and len(part.content) == 100


async def test_standard_webhooks_and_url_token_also_authenticate(
    client: AsyncTestClient[Any], session: dict[str, Any]
) -> None:
    body = play_video_body("pricing walkthrough", "call_sw")
    sw = await client.post(WEBHOOK, content=body, headers=standard_webhook_headers(body, "msg_sw_1"))
    assert sw.status_code == 200 and sw.json()["video"]["title"] == "Pricing Walkthrough"
    body = play_video_body("INTEGRATIONS TOUR", "call_token")
    tok = await client.post(
        WEBHOOK, content=body, params={"token": SECRET}, headers={"content-type": "application/json"}
    )
    assert tok.status_code == 200 and tok.json()["video"]["title"] == "Integrations tour"


async def test_replay_answers_duplicate(
    client: AsyncTestClient[Any], session: dict[str, Any], db_pool: asyncpg.Pool
) -> None:
    body = fixture_bytes("tool_call.play_video.json")
    assert (await post_signed(client, body)).json()["status"] == "played"
    again = await post_signed(client, body)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    query = "select status, attempts from webhook_events where dedupe_key = 'call_8e2f4c1a'"
    async with asyncio.timeout(5):  # the completion is written behind the answer (write_behind.py)
        while (row := await db_pool.fetchrow(query)) is not None and row["status"] == "processing":
            await asyncio.sleep(0.01)
    assert row is not None and (row["status"], row["attempts"]) == ("played", 1)


async def test_a_replay_with_a_fresh_unsigned_webhook_id_is_still_a_duplicate(
    client: AsyncTestClient[Any], session: dict[str, Any], db_pool: asyncpg.Pool
) -> None:
    body = fixture_bytes("tool_call.play_video.json")
    captured = {**tavus_headers(body), "webhook-id": "msg-original"}
    assert (await client.post(WEBHOOK, content=body, headers=captured)).json()["status"] == "played"
    for fresh in ("msg-replay-1", "msg-replay-2"):
        replay = await client.post(WEBHOOK, content=body, headers={**captured, "webhook-id": fresh})
        assert replay.json() == {"status": "duplicate"}
    assert await db_pool.fetchval("select count(*) from webhook_events") == 1


async def test_failed_delivery_is_retryable(
    client: AsyncTestClient[Any], session: dict[str, Any], seeded: SeededApp, db_pool: asyncpg.Pool
) -> None:
    body = play_video_body("A video added later", "call_later")
    first = await post_signed(client, body)
    assert first.status_code == 404 and first.json()["error"] == "video_not_found"
    # The test client runs the app in its own event loop: add the video through the test's own pool.
    sample = SAMPLES_DIR / "product-overview.mp4"
    seeded.container.media_storage().import_file(sample, f"{seeded.demo_id}/later.mp4")
    await db_pool.execute(
        "insert into demo_videos (demo_id, title, storage_path, duration_s) values ($1, $2, $3, 6.0)",
        seeded.demo_id,
        "A video added later",
        f"{seeded.demo_id}/later.mp4",
    )
    retried = await post_signed(client, body)
    assert retried.status_code == 200 and retried.json()["video"]["title"] == "A video added later"


async def test_demo_id_on_the_url_resolves_unregistered_conversations(
    client: AsyncTestClient[Any], seeded: SeededApp
) -> None:
    body = fixture_bytes("tool_call.api_delivery.json")  # conversation never registered
    response = await post_signed(client, body, demo_id=seeded.demo_id)
    assert response.status_code == 200 and response.json()["video"]["title"] == "Integrations tour"


async def test_lifecycle_events_are_recorded(
    client: AsyncTestClient[Any], session: dict[str, Any], db_pool: asyncpg.Pool
) -> None:
    for name in (
        "system.replica_joined.json",
        "application.transcription_ready.json",
        "system.shutdown.json",
    ):
        body = fixture_bytes(name)
        response = await client.post(WEBHOOK, content=body, params={"token": SECRET})
        assert response.status_code == 200 and response.json() == {"status": "recorded"}, name
    status = await db_pool.fetchval(
        "select status from conversations where conversation_id = $1", CONVERSATION
    )
    assert status == "ended"


@pytest.mark.parametrize("name", ["tool_call.other_tool.json"])
async def test_other_tools_are_ignored(
    client: AsyncTestClient[Any], session: dict[str, Any], name: str
) -> None:
    response = await post_signed(client, fixture_bytes(name))
    assert response.status_code == 202 and response.json() == {"status": "ignored"}


# --- the webhook: errors, in the order of checks ------------------------------------------------


async def test_authentication_failures_are_401_and_store_nothing(
    client: AsyncTestClient[Any], session: dict[str, Any], db_pool: asyncpg.Pool
) -> None:
    body = fixture_bytes("tool_call.play_video.json")
    cases = [
        (body + b" ", tavus_headers(body), {}),  # tampered body
        (body, tavus_headers(body, secret="wrong"), {}),  # wrong secret
        (body, {"content-type": "application/json"}, {}),  # no signature at all
        (body, {}, {"token": "wrong"}),
        (body, standard_webhook_headers(body, "m1", secret="wrong"), {}),
    ]
    for content, headers, params in cases:
        response = await client.post(WEBHOOK, content=content, headers=headers, params=params)
        assert response.status_code == 401 and response.json()["error"] == "invalid_signature"
    stale = await client.post(
        WEBHOOK, content=body, headers=standard_webhook_headers(body, "m2", timestamp=1_000_000)
    )
    assert stale.status_code == 401 and stale.json()["error"] == "stale_timestamp"
    assert await db_pool.fetchval("select count(*) from webhook_events") == 0


async def test_webhook_error_answers(client: AsyncTestClient[Any], session: dict[str, Any]) -> None:
    unknown = await post_signed(client, play_video_body("Quantum teleporter", "c1"))
    assert unknown.status_code == 404
    assert (
        unknown.json()["error"] == "video_not_found" and unknown.json()["video_title"] == "Quantum teleporter"
    )
    assert len(unknown.json()["suggestions"]) == 3

    no_conversation = await post_signed(
        client, play_video_body("Product Overview", "c2", conversation="nobody")
    )
    assert no_conversation.status_code == 404 and no_conversation.json()["error"] == "unknown_conversation"

    bad_demo = await post_signed(
        client,
        play_video_body("Product Overview", "c3", conversation="nobody"),
        demo_id="00000000-0000-0000-0000-000000000000",
    )
    assert bad_demo.status_code == 404 and bad_demo.json()["error"] == "unknown_demo"

    blank = await post_signed(client, play_video_body("  ", "c4"))
    assert blank.status_code == 422 and blank.json()["error"] == "invalid_arguments"

    malformed = await post_signed(client, b'{"event_type": "conversation.tool_call",')
    assert malformed.status_code == 400 and malformed.json()["error"] == "malformed_json"

    huge = b'{"pad": "' + b"x" * 70_000 + b'"}'
    too_large = await post_signed(client, huge)
    assert too_large.status_code == 413 and too_large.json()["error"] == "payload_too_large"


async def test_missing_video_file_is_video_missing(
    client: AsyncTestClient[Any], session: dict[str, Any], seeded: SeededApp
) -> None:
    path = seeded.settings.media_dir / seeded.demo_id / "pricing-walkthrough.mp4"
    path.unlink()
    response = await post_signed(client, play_video_body("Pricing Walkthrough", "c5"))
    assert response.status_code == 404 and response.json()["error"] == "video_missing"


async def test_unknown_route_and_method_answer_json(client: AsyncTestClient[Any]) -> None:
    missing = await client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = await client.get(WEBHOOK)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert "POST" in wrong.headers["allow"]  # RFC 9110: a 405 says what the resource takes


# --- the page's tool-call bridge ----------------------------------------------------------------


async def test_session_tool_call_bridge(client: AsyncTestClient[Any], session: dict[str, Any]) -> None:
    url = f"/api/sessions/{session['channel']}/tool-calls"
    body = play_video_body("Product Overview", "bridge_1")  # the session's own conversation
    ok = await client.post(
        url, content=body, headers={"authorization": f"Bearer {session['websocket']['token']}"}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "played"
    # Another conversation's call with this viewer's token: refused, nothing played.
    other_conversation = play_video_body("Product Overview", "bridge_2", conversation="someone-else")
    stolen = await client.post(
        url, content=other_conversation, headers={"authorization": f"Bearer {session['websocket']['token']}"}
    )
    assert stolen.status_code == 403 and stolen.json()["error"] == "invalid_token"
    missing = await client.post(url, content=body)
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"  # no credentials at all
    other = await client.post(
        "/api/sessions/demo-00000000-0000-0000-0000-000000000000/tool-calls",
        content=body,
        headers={"authorization": f"Bearer {session['websocket']['token']}"},
    )
    assert other.status_code == 403


async def test_the_bridge_refuses_lifecycle_events(
    client: AsyncTestClient[Any], session: dict[str, Any]
) -> None:
    # Only Tavus (the signed webhook) reports that a conversation ended; a page cannot end one.
    refused = await client.post(
        f"/api/sessions/{session['channel']}/tool-calls",
        content=fixture_bytes("system.shutdown.json"),
        headers={"authorization": f"Bearer {session['websocket']['token']}"},
    )
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_request"
    assert "tool calls only" in refused.json()["message"]


# --- health, metrics, schema --------------------------------------------------------------------


async def test_health_ready_metrics_and_openapi(
    client: AsyncTestClient[Any], session: dict[str, Any]
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    await post_signed(client, fixture_bytes("tool_call.play_video.json"))
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert 'demo_relay_webhooks_total{outcome="played"} 1.0' in metrics.text
    assert "demo_relay_ws_connections 0.0" in metrics.text
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/tavus-webhook",
        "/api/demos",
        "/api/demos/{demo_id}/sessions",
        "/api/demos/{demo_id}/tool",
    ):
        assert path in paths


async def test_serving_applies_the_retention_at_start(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    await db_pool.execute(
        "insert into webhook_events (dedupe_key, event_type, status, claimed_at, completed_at) values"
        " ('ancient', 'tool_call.play_video', 'played', now() - interval '40 days',"
        "  now() - interval '40 days'),"
        " ('fresh', 'tool_call.play_video', 'played', now(), now())"
    )
    app = SeededApp(make_settings(tmp_path, database_url, webhook_events_retention_days=30), database_url)
    async with AsyncTestClient(app.app):
        for _ in range(50):  # the retention task runs right after start-up
            keys = {r["dedupe_key"] for r in await db_pool.fetch("select dedupe_key from webhook_events")}
            if keys == {"fresh"}:
                break
            await asyncio.sleep(0.02)
    assert keys == {"fresh"}


async def test_sessions_and_the_bridge_are_rate_limited_per_client(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    settings = make_settings(
        tmp_path, database_url, rate_limit_sessions_per_min=3, rate_limit_bridge_per_min=2
    )
    seeded = SeededApp(settings, database_url)
    async with AsyncTestClient(seeded.app) as client:
        url = f"/api/demos/{seeded.demo_id}/sessions"
        answers = [
            await client.post(url, headers=owner_headers(), json={"conversation_id": f"c-{i}"})
            for i in range(4)
        ]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        limited = answers[-1]
        assert limited.json()["error"] == "too_many_requests"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["ratelimit-limit"] == "3"
        assert await db_pool.fetchval("select count(*) from conversations") == 3  # the 4th registered nothing
        token = answers[0].json()["websocket"]["token"]
        bridge = f"/api/sessions/demo-{seeded.demo_id}/tool-calls"
        headers = {"authorization": f"Bearer {token}"}
        calls = [await client.post(bridge, content=b"{}", headers=headers) for _ in range(3)]
        assert [c.status_code for c in calls] == [202, 202, 429]  # its own budget, not the sessions'
        assert (await client.get("/api/demos")).status_code == 200  # other routes are not limited


# --- owner token and viewer links -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong-token-0123456789"},
        {"authorization": "Basic abc"},
        owner_headers(""),
    ],
)
async def test_viewer_links_need_the_owner_token(
    client: AsyncTestClient[Any], seeded: SeededApp, headers: dict[str, str]
) -> None:
    url = f"/api/demos/{seeded.demo_id}/viewer-links"
    refused = await client.post(url, json={"conversation_id": "prospect-1"}, headers=headers)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    # Refused before the body is read: a broken body without the token is still 401, not 400.
    assert (await client.post(url, content=b"{not json", headers=headers)).status_code == 401


async def test_a_viewer_link_opens_a_session_for_its_conversation_only(
    client: AsyncTestClient[Any], seeded: SeededApp
) -> None:
    minted = await client.post(
        f"/api/demos/{seeded.demo_id}/viewer-links",
        json={
            "conversation_id": "prospect-1",
            "conversation_url": "https://tavus.daily.co/prospect-1",
            "ttl_s": 600,
        },
        headers=owner_headers(),
    )
    assert minted.status_code == 201, minted.text
    link = minted.json()
    assert link["url"].startswith(f"http://127.0.0.1:8000/demos/{seeded.demo_id}?conversation_id=prospect-1&")
    assert f"grant={link['grant']}" in link["url"] and link["expires_at"]
    sessions = f"/api/demos/{seeded.demo_id}/sessions"
    ok = await client.post(sessions, json={"conversation_id": "prospect-1", "grant": link["grant"]})
    assert ok.status_code == 201
    for body in (
        {"conversation_id": "prospect-2", "grant": link["grant"]},  # another conversation
        {"conversation_id": "prospect-1", "grant": link["grant"] + "x"},  # tampered
        {"conversation_id": "prospect-1", "grant": ok.json()["websocket"]["token"]},  # a channel token
    ):
        refused = await client.post(sessions, json=body)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized", body
    other_demo = await client.post(
        "/api/demos/00000000-0000-4000-8000-000000000000/sessions",
        json={"conversation_id": "prospect-1", "grant": link["grant"]},
    )
    assert other_demo.status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        # Rules the schema states (the document's pattern and bounds): 400, naming the field in `problems`.
        ({"conversation_id": "has space"}, 400),
        ({"conversation_id": "p", "ttl_s": 5}, 400),
        ({"conversation_id": "p", "ttl_s": 10**9}, 400),
        # The configured host list: 422 naming the field.
        ({"conversation_id": "p", "conversation_url": "https://login.example.com/x"}, 422),
    ],
)
async def test_bad_viewer_link_requests_are_refused(
    client: AsyncTestClient[Any], seeded: SeededApp, body: dict[str, Any], status: int
) -> None:
    url = f"/api/demos/{seeded.demo_id}/viewer-links"
    response = await client.post(url, json=body, headers=owner_headers())
    assert response.status_code == status and response.json()["error"] == "invalid_request"


async def test_a_viewer_link_for_an_unknown_demo_is_404(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/api/demos/00000000-0000-4000-8000-000000000000/viewer-links",
        json={"conversation_id": "p"},
        headers=owner_headers(),
    )
    assert response.status_code == 404 and response.json()["error"] == "unknown_demo"


@pytest.mark.parametrize(
    "headers", [{}, {"authorization": "Bearer not-the-owner-token-0123"}, {"authorization": "Bearer "}]
)
async def test_a_session_needs_an_owner_token_or_a_viewer_link(
    client: AsyncTestClient[Any], seeded: SeededApp, db_pool: asyncpg.Pool, headers: dict[str, str]
) -> None:
    # Whoever registers a conversation first would own it: only owners and viewer links may.
    response = await client.post(
        f"/api/demos/{seeded.demo_id}/sessions", headers=headers, json={"conversation_id": "hijack-me"}
    )
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert await db_pool.fetchval("select count(*) from conversations") == 0
