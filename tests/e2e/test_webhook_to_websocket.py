"""The whole slice over real sockets: uvicorn serving the real app on Postgres, a browser-like subscriber
with the `websockets` client, signed webhooks over HTTP. A verified play_video reaches the subscriber with a
URL that downloads as video/mp4 and answers Range with 206; forged, stale or replayed webhooks send
nothing; late joiners get the current video; system.shutdown ends the session on the channel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

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
from tests.support.server import free_port, running
from tests.support.tavus_fixtures import fixture_bytes

QUIET_S = 0.3  # how long "nothing arrives" is watched for


@dataclass
class Live:
    base: str
    http: httpx.AsyncClient
    seeded: SeededApp
    session: dict[str, Any]

    @property
    def ws_url(self) -> str:
        return f"{self.session['websocket']['url']}?token={self.session['websocket']['token']}"

    async def webhook(
        self, body: bytes, headers: dict[str, str] | None = None, **params: str
    ) -> httpx.Response:
        return await self.http.post(
            "/api/tavus-webhook",
            content=body,
            headers=tavus_headers(body) if headers is None else headers,
            params=params,
        )


@pytest.fixture
async def live(tmp_path: Path, database_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[Live]:
    port = free_port()
    settings = make_settings(tmp_path, database_url, port=port)
    seeded = SeededApp(settings, database_url)
    async with running(seeded.app, port) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.post(
            f"/api/demos/{seeded.demo_id}/sessions",
            headers=owner_headers(),
            json={"conversation_id": CONVERSATION},
        )
        assert response.status_code == 201, response.text
        yield Live(base, http, seeded, response.json())


async def subscribe(url: str) -> ClientConnection:
    ws = await connect(url)
    first = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert first["event"] == "subscribed"
    return ws


async def next_event(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    return frame


async def assert_silent(ws: ClientConnection) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), QUIET_S)


async def test_signed_tool_call_reaches_the_subscriber_with_a_playable_url(live: Live) -> None:
    async with await subscribe(live.ws_url) as ws:
        body = fixture_bytes("tool_call.play_video.json").replace(b"Product Overview", b"product OVERVIEW")
        response = await live.webhook(body)
        assert response.status_code == 200 and response.json()["status"] == "played"
        frame = await next_event(ws)
        channel = f"demo-{live.seeded.demo_id}"
        assert frame["event"] == "play_video" and frame["channel"] == channel
        assert frame["id"] and frame["sent_at"].endswith("Z")
        payload = frame["payload"]
        assert payload["title"] == "Product Overview"
        assert payload["url"] == response.json()["video"]["url"]
        assert payload["demo_id"] == live.seeded.demo_id and payload["conversation_id"] == CONVERSATION
        assert payload["tool_call_id"] == "call_8e2f4c1a" and payload["expires_at"]

        video = await live.http.get(payload["url"])
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        assert video.content[4:8] == b"ftyp"
        part = await live.http.get(payload["url"], headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206 and part.content == video.content[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(video.content)}"

        replay = await live.webhook(body)
        assert replay.json() == {"status": "duplicate"}
        await assert_silent(ws)


async def test_standard_webhooks_and_url_token_deliver_too(live: Live) -> None:
    async with await subscribe(live.ws_url) as ws:
        body = play_video_body("Pricing Walkthrough", "call_sw")
        assert (await live.webhook(body, standard_webhook_headers(body, "msg_1"))).status_code == 200
        assert (await next_event(ws))["payload"]["title"] == "Pricing Walkthrough"
        body = play_video_body("integrations tour", "call_tok")
        assert (
            await live.webhook(body, {"content-type": "application/json"}, token=SECRET)
        ).status_code == 200
        assert (await next_event(ws))["payload"]["title"] == "Integrations tour"


async def test_forged_or_stale_webhooks_send_nothing(live: Live) -> None:
    async with await subscribe(live.ws_url) as ws:
        body = play_video_body("Product Overview", "call_forged")
        forged = [
            (body.replace(b"Product", b"Pricing"), tavus_headers(body), {}),
            (body, tavus_headers(body, secret="not-the-secret"), {}),
            (body, {"content-type": "application/json"}, {}),
            (body, {"content-type": "application/json"}, {"token": "guess"}),
            (body, standard_webhook_headers(body, "msg_2", timestamp=1_600_000_000), {}),
        ]
        for content, headers, params in forged:
            response = await live.webhook(content, headers, **params)
            assert response.status_code == 401
        await assert_silent(ws)


async def test_late_subscriber_gets_the_current_video_and_shutdown_ends_it(live: Live) -> None:
    assert (await live.webhook(play_video_body("Integrations tour", "call_late"))).status_code == 200
    async with await subscribe(live.ws_url) as late:
        current = await next_event(late)
        assert current["event"] == "play_video" and current["payload"]["title"] == "Integrations tour"
        shutdown = fixture_bytes("system.shutdown.json")
        response = await live.webhook(shutdown, {"content-type": "application/json"}, token=SECRET)
        assert response.json() == {"status": "recorded"}
        ended = await next_event(late)
        assert ended["event"] == "session_ended"
        assert ended["payload"] == {"conversation_id": CONVERSATION, "reason": "participant_left_timeout"}
    with pytest.raises(InvalidStatus) as refused:  # the ended conversation's token subscribes no more
        await connect(live.ws_url)
    assert refused.value.response.status_code == 403
    again = await live.http.post(
        f"/api/demos/{live.seeded.demo_id}/sessions",
        headers=owner_headers(),
        json={"conversation_id": CONVERSATION},
    )
    assert again.status_code == 409 and again.json()["error"] == "conversation_ended"  # and no new session
    watch = (await live.http.post(f"/api/demos/{live.seeded.demo_id}/watch", headers=owner_headers())).json()
    async with await subscribe(f"{watch['websocket']['url']}?token={watch['websocket']['token']}") as after:
        await assert_silent(after)  # session_ended cleared the current video, for an owner watching too


async def test_ignored_events_send_nothing(live: Live) -> None:
    async with await subscribe(live.ws_url) as ws:
        assert (await live.webhook(fixture_bytes("tool_call.other_tool.json"))).status_code == 202
        joined = fixture_bytes("system.replica_joined.json")
        assert (
            await live.webhook(joined, {"content-type": "application/json"}, token=SECRET)
        ).status_code == 200
        await assert_silent(ws)


async def test_bad_token_wrong_channel_and_foreign_origin_are_refused(live: Live) -> None:
    ws = live.session["websocket"]
    other = "demo-00000000-0000-0000-0000-000000000000"
    for url, origin in [
        (f"{ws['url']}?token=forged", None),
        (ws["url"], None),
        (f"{ws['url'].rsplit('/', 1)[0]}/{other}?token={ws['token']}", None),
        (live.ws_url, "https://evil.example"),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, origin=origin)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
    async with await subscribe(live.ws_url):
        pass  # the right token with no Origin (non-browser client) is accepted
    async with await connect(live.ws_url, origin=live.base) as same_origin:  # type: ignore[arg-type]
        assert json.loads(await same_origin.recv())["event"] == "subscribed"


async def test_two_prospects_on_one_demo_never_see_each_others_videos(live: Live) -> None:
    other = await live.http.post(
        f"/api/demos/{live.seeded.demo_id}/sessions",
        headers=owner_headers(),
        json={"conversation_id": "second-prospect"},
    )
    other_url = f"{other.json()['websocket']['url']}?token={other.json()['websocket']['token']}"
    async with await subscribe(live.ws_url) as first, await subscribe(other_url) as second:
        played = await live.webhook(play_video_body("Pricing Walkthrough", "call_first"))
        assert played.json()["status"] == "played"
        assert (await next_event(first))["payload"]["title"] == "Pricing Walkthrough"
        await assert_silent(second)  # the other prospect's page never receives it
    async with await subscribe(other_url) as late:
        await assert_silent(late)  # nor as a late joiner: the current video is per conversation


async def test_an_owner_session_watches_every_conversation_of_the_demo(live: Live) -> None:
    for headers in ({}, {"authorization": "Bearer not-the-owner-token-0123"}):  # owners only
        refused = await live.http.post(f"/api/demos/{live.seeded.demo_id}/watch", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    watch = await live.http.post(f"/api/demos/{live.seeded.demo_id}/watch", headers=owner_headers())
    assert watch.status_code == 201, watch.text
    assert watch.json()["conversation_id"] is None
    watch_url = f"{watch.json()['websocket']['url']}?token={watch.json()['websocket']['token']}"
    async with await subscribe(watch_url) as owner:
        played = await live.webhook(play_video_body("Pricing Walkthrough", "call_watched"))
        assert played.json()["status"] == "played"
        frame = await next_event(owner)
        assert (frame["payload"]["title"], frame["payload"]["conversation_id"]) == (
            "Pricing Walkthrough",
            CONVERSATION,
        )
        # Read-only like every session token: whatever the owner's page sends is not published.
        await owner.send(
            json.dumps({"event": "play_video", "payload": {"url": "https://evil.example/x.mp4"}})
        )
        await assert_silent(owner)
    # Its token is not a viewer's: it forwards no tool calls (only a conversation's page does).
    forwarded = await live.http.post(
        f"/api/sessions/demo-{live.seeded.demo_id}/tool-calls",
        headers={"authorization": f"Bearer {watch.json()['websocket']['token']}"},
        content=play_video_body("Product Overview", "call_from_owner_page"),
    )
    assert forwarded.status_code == 403 and forwarded.json()["error"] == "invalid_token"
