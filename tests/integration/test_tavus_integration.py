"""The Tavus integration through the real app (real uvicorn socket, real Postgres) against the fake Tavus
(devtools/fake_tavus, itself checked by the official SDK in test_fake_tavus.py), which calls our webhook
back over HTTP like Tavus does:

- persona sync for both deliveries: titles added, renamed and removed reach the persona, its other tools
  stay, a failure is recorded on the demo and retried by itself, "Sync now";
- starting a conversation: the request Tavus gets (§12), the per-demo callback token (its lifecycle
  callbacks are accepted; with another demo's id, or for another demo's conversation, refused), our cap
  and Tavus's answered 429 tavus_capacity, Tavus 401 / 5xx / down answered 502 and nothing registered,
  public_start;
- ending: one session_ended, the later system.shutdown callback a duplicate that sends nothing;
- the reaper of leaked conversations;
- the agent calling play_video by API delivery (signed by the fake) and by app-message (forwarded by the
  page's bridge);
- every new route without, and with a wrong, credential."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
import websockets

from demo_relay.adapters.signatures.callback_token import HmacCallbackTokens
from demo_relay.domain.models import ToolDelivery, registry_tool_name
from tests.support.app import ADMIN_TOKEN, SECRET, SeededApp, make_settings, owner_headers
from tests.support.server import free_port, running
from tests.support.tavus import RunningFakeTavus, running_fake_tavus

PERSONA = "pdemo0000001"
REPLICA = "rdemo0000001"
OTHER_TOOL = {
    "type": "function",
    "function": {
        "name": "book_meeting",
        "description": "Book a meeting with sales",
        "parameters": {"type": "object", "properties": {"day": {"type": "string"}}, "required": ["day"]},
    },
}
WAIT_S = 15.0


@dataclass
class Stack:
    relay: str  # http://127.0.0.1:<port>
    tavus: RunningFakeTavus
    app: SeededApp
    http: httpx.AsyncClient
    pool: asyncpg.Pool

    @property
    def demo_id(self) -> str:
        return self.app.demo_id

    async def demo(self, demo_id: str | None = None) -> dict[str, Any]:
        response = await self.http.get(f"/api/demos/{demo_id or self.demo_id}")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    async def set_persona(self, persona: str | None = PERSONA, **fields: Any) -> dict[str, Any]:
        response = await self.http.patch(
            f"/api/demos/{self.demo_id}",
            json={"tavus": {"persona_id": persona}, **fields},
            headers=owner_headers(),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def start(self, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"/api/demos/{self.demo_id}/conversations",
            json=body,
            headers=owner_headers() if headers is None else headers,
        )

    def persona(self, persona: str = PERSONA) -> dict[str, Any]:
        return self.tavus.fake.persona_json(self.tavus.fake.personas[persona])

    def inline_tools(self, persona: str = PERSONA) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = self.persona(persona).get("layers", {}).get("llm", {}).get("tools", [])
        return tools


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = WAIT_S) -> None:
    async with asyncio.timeout(within_s):
        while not await check():
            await asyncio.sleep(0.05)


async def sync_state(stack: Stack, state: str, demo_id: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        found.update(await stack.demo(demo_id))
        return bool(found["tavus"]["sync"]["state"] == state)

    await eventually(reached)
    return found


def enum_of(tool: dict[str, Any]) -> list[str]:
    parameters = tool["function"]["parameters"] if "function" in tool else tool["parameters"]
    return list(parameters["properties"]["video_title"]["enum"])


@pytest.fixture
def stack_factory(tmp_path: Path, database_url: str, db_pool: asyncpg.Pool) -> Callable[..., Any]:
    """A relay wired to a fresh fake Tavus: `async with stack_factory(**settings) as stack`."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def make(
        fake_max_concurrent: int = 5, persona_envelope: str = "bare", **overrides: Any
    ) -> AsyncIterator[Stack]:
        seed = {
            "persona_id": PERSONA,
            "default_replica_id": REPLICA,
            "layers": {"llm": {"tools": [OTHER_TOOL]}},
        }
        async with running_fake_tavus(
            max_concurrent=fake_max_concurrent,
            persona_envelope=persona_envelope,  # type: ignore[arg-type]
        ) as tavus:
            tavus.fake.seed_persona(seed)
            tavus.fake.seed_persona({"persona_id": "pother000001", "default_replica_id": REPLICA})
            port = free_port()
            fields: dict[str, Any] = {
                "port": port,
                "tavus_api_key": tavus.api_key,
                "tavus_api_url": tavus.base_url,
                "tavus_sync_poll_s": 0.05,
                "tavus_sync_retry_s": 0.3,
                "tavus_reap_interval_s": 0.1,
            }
            settings = make_settings(tmp_path, database_url, **{**fields, **overrides})
            app = SeededApp(settings, database_url)
            async with running(app.app, port) as relay, httpx.AsyncClient(base_url=relay, timeout=30) as http:
                yield Stack(relay, tavus, app, http, db_pool)
                await tavus.fake.drain()

    return make


# --- persona sync -----------------------------------------------------------------------------------


async def test_app_message_sync_follows_titles_and_keeps_the_other_tools(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        assert (await stack.demo())["tavus"]["sync"]["state"] == "off"  # no persona yet
        await stack.set_persona()
        demo = await sync_state(stack, "synced")
        assert demo["tavus"]["sync"]["synced_at"] and demo["tavus"]["sync"]["error"] is None
        tools = stack.inline_tools()
        assert [t["function"]["name"] for t in tools] == ["book_meeting", "play_video"]
        assert tools[0] == OTHER_TOOL
        titles = [v["title"] for v in demo["videos"]]
        assert enum_of(tools[1]) == titles

        first, second = demo["videos"][0], demo["videos"][1]
        renamed = await stack.http.patch(
            f"/api/demos/{stack.demo_id}/videos/{first['id']}", json={"title": "Tour, renamed"},
            headers=owner_headers(),
        )  # fmt: skip
        assert renamed.status_code == 200
        deleted = await stack.http.delete(
            f"/api/demos/{stack.demo_id}/videos/{second['id']}", headers=owner_headers()
        )
        assert deleted.status_code == 204
        expected = ["Tour, renamed", *titles[2:]]

        async def followed() -> bool:
            tools = stack.inline_tools()
            return len(tools) == 2 and enum_of(tools[1]) == expected

        await eventually(followed)
        await sync_state(stack, "synced")
        assert stack.inline_tools()[0] == OTHER_TOOL
        assert not [t for t in stack.tavus.fake.tools.values()]  # no registry tool with app_message


async def test_a_demo_with_no_videos_and_a_persona_it_left_keep_no_play_video(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        await stack.set_persona()
        await sync_state(stack, "synced")
        await stack.set_persona("pother000001")
        await sync_state(stack, "synced")
        assert [t["function"]["name"] for t in stack.inline_tools()] == ["book_meeting"]
        assert [t["function"]["name"] for t in stack.inline_tools("pother000001")] == ["play_video"]
        for video in (await stack.demo())["videos"]:
            await stack.http.delete(
                f"/api/demos/{stack.demo_id}/videos/{video['id']}", headers=owner_headers()
            )
        await eventually(lambda: _async(stack.inline_tools("pother000001") == []))
        await sync_state(stack, "synced")


async def _async(value: bool) -> bool:
    return value


async def test_api_sync_keeps_one_registry_tool_per_demo_attached_to_the_persona(stack_factory: Any) -> None:
    async with stack_factory(tavus_tool_delivery=ToolDelivery.API) as stack:
        await stack.set_persona()
        demo = await sync_state(stack, "synced")
        name = registry_tool_name(stack.demo_id)
        [tool] = list(stack.tavus.fake.tools.values())
        assert tool["name"] == name
        assert tool["delivery"]["api"]["url"] == f"{stack.relay}/api/tavus-webhook?demo_id={stack.demo_id}"
        assert tool["delivery"]["api"]["auth"] == {"type": "hmac", "secret": SECRET}
        assert tool["on_resolve"] == "generate_response"
        assert enum_of(tool) == [v["title"] for v in demo["videos"]]
        assert stack.tavus.fake.attachments[PERSONA] == [tool["tool_id"]]
        assert stack.inline_tools() == [OTHER_TOOL]  # the inline tools are the owner's

        video = demo["videos"][0]
        await stack.http.patch(
            f"/api/demos/{stack.demo_id}/videos/{video['id']}", json={"title": "Renamed for api"},
            headers=owner_headers(),
        )  # fmt: skip

        async def patched() -> bool:
            tools = list(stack.tavus.fake.tools.values())
            return len(tools) == 1 and "Renamed for api" in enum_of(tools[0])

        await eventually(patched)
        assert next(iter(stack.tavus.fake.tools)) == tool["tool_id"]  # the same tool, patched


async def test_a_failed_sync_is_recorded_and_retried_by_itself(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        # Tavus answers 503 until further notice: attempts fail (each after its own retries), the demo says
        # so, and the worker keeps trying.
        stack.tavus.add_fault(status=503, times=None, match="/personas/")
        await stack.set_persona()
        failed = await sync_state(stack, "failed")
        assert "tavus_unavailable" in failed["tavus"]["sync"]["error"]
        stack.tavus.fake.faults.clear()  # Tavus is back
        demo = await sync_state(stack, "synced")  # the next attempt gets through, nobody pressed anything
        assert demo["tavus"]["sync"]["error"] is None
        assert [t["function"]["name"] for t in stack.inline_tools()] == ["book_meeting", "play_video"]


async def test_sync_now_answers_the_outcome_and_a_missing_persona_fails_in_words(stack_factory: Any) -> None:
    async with stack_factory(tavus_sync_poll_s=30.0) as stack:  # the worker sleeps: only Sync now acts
        await asyncio.sleep(0.3)  # its first pass over the seeded demo (no persona) is done
        await stack.set_persona("pmissing0001")
        response = await stack.http.post(f"/api/demos/{stack.demo_id}/tavus/sync", headers=owner_headers())
        assert response.status_code == 200
        sync = response.json()["tavus"]["sync"]
        assert sync["state"] == "failed" and "Invalid persona_id" in sync["error"]
        await stack.set_persona()
        response = await stack.http.post(f"/api/demos/{stack.demo_id}/tavus/sync", headers=owner_headers())
        assert response.json()["tavus"]["sync"]["state"] == "synced"


# --- starting and ending conversations ----------------------------------------------------------------


async def test_start_creates_the_conversation_as_section_12_says(stack_factory: Any) -> None:
    async with stack_factory(tavus_max_call_s=900) as stack:
        await stack.set_persona()
        response = await stack.start(conversation_name="Acme call", custom_greeting="Hello there")
        assert response.status_code == 201, response.text
        started = response.json()
        conversation_id = started["conversation_id"]
        assert started["conversation_url"] == f"https://tavus.daily.co/{conversation_id}"
        assert started["status"] == "active"
        session = started["session"]
        assert session["conversation_id"] == conversation_id and session["channel"] == f"demo-{stack.demo_id}"

        request = stack.tavus.fake.conversations[conversation_id].request
        assert request["persona_id"] == PERSONA
        assert "replica_id" not in request  # the demo has none: the persona's default replica talks
        assert request["conversation_name"] == "Acme call" and request["custom_greeting"] == "Hello there"
        properties = request["properties"]
        assert properties["max_call_duration"] == 900
        assert properties["participant_left_timeout"] <= 60
        assert properties["participant_absent_timeout"] <= 300
        callback = urlsplit(request["callback_url"])
        query = parse_qs(callback.query)
        assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{stack.relay}/api/tavus-webhook"
        assert query["demo_id"] == [stack.demo_id]
        assert query["callback_token"] == [HmacCallbackTokens([SECRET]).issue(stack.demo_id)]
        assert SECRET not in request["callback_url"]

        # Tavus's replica_joined callback, authenticated by that token, is recorded.
        await stack.tavus.fake.drain()
        [joined] = [c for c in stack.tavus.fake.callbacks if c["event_type"] == "system.replica_joined"]
        assert joined["status"] == 200 and json.loads(joined["response"]) == {"status": "recorded"}

        conversations = await stack.http.get(
            f"/api/demos/{stack.demo_id}/conversations", headers=owner_headers()
        )
        assert [c["conversation_id"] for c in conversations.json()] == [conversation_id]


async def test_the_callback_token_speaks_for_its_demo_only(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        await stack.set_persona()
        started = (await stack.start()).json()
        token = HmacCallbackTokens([SECRET]).issue(stack.demo_id)
        other = await stack.http.post("/api/demos", json={"name": "Other"}, headers=owner_headers())
        other_id = other.json()["id"]
        shutdown = {
            "event_type": "system.shutdown",
            "message_type": "system",
            "conversation_id": started["conversation_id"],
            "timestamp": "2026-12-07T10:00:00Z",
            "properties": {"shutdown_reason": "forged"},
        }
        body = json.dumps(shutdown).encode()
        headers = {"content-type": "application/json"}
        # The token with another demo's id in the URL: refused.
        refused = await stack.http.post(
            "/api/tavus-webhook", content=body, headers=headers,
            params={"demo_id": other_id, "callback_token": token},
        )  # fmt: skip
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_signature")
        # The other demo's own token, for this demo's conversation: refused too.
        other_token = HmacCallbackTokens([SECRET]).issue(other_id)
        refused = await stack.http.post(
            "/api/tavus-webhook", content=body, headers=headers,
            params={"demo_id": other_id, "callback_token": other_token},
        )  # fmt: skip
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_signature")
        # A made-up token: refused.
        refused = await stack.http.post(
            "/api/tavus-webhook", content=body, headers=headers,
            params={"demo_id": stack.demo_id, "callback_token": "0" * 64},
        )  # fmt: skip
        assert refused.status_code == 401
        conversations = await stack.http.get(
            f"/api/demos/{stack.demo_id}/conversations", headers=owner_headers()
        )
        assert conversations.json()[0]["status"] == "active"  # nothing was ended by any of them


async def test_our_cap_and_tavus_cap_are_429_and_free_their_slot(stack_factory: Any) -> None:
    async with stack_factory(tavus_max_concurrent=2, fake_max_concurrent=1) as stack:
        await stack.set_persona()
        first = await stack.start()
        assert first.status_code == 201
        # Tavus's own limit (1): its 400 "maximum concurrent conversations" is ours to answer as 429.
        second = await stack.start()
        assert (second.status_code, second.json()["error"]) == (429, "tavus_capacity")
        assert int(second.headers["retry-after"]) >= 1
        stack.tavus.fake.max_concurrent = 10
        assert (await stack.start()).status_code == 201  # the refused start gave its slot back
        # Our own cap (2): Tavus is not even asked.
        asked = len(stack.tavus.fake.conversations)
        third = await stack.start()
        assert (third.status_code, third.json()["error"]) == (429, "tavus_capacity")
        assert int(third.headers["retry-after"]) >= 1
        assert len(stack.tavus.fake.conversations) == asked
        # Ending one frees a slot.
        conversation_id = first.json()["conversation_id"]
        ended = await stack.http.post(
            f"/api/demos/{stack.demo_id}/conversations/{conversation_id}/end", headers=owner_headers()
        )
        assert ended.status_code == 200
        assert (await stack.start()).status_code == 201


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"status": 503, "times": None}, "tavus_unavailable"),
        ({"down": True, "times": None}, "tavus_unavailable"),
        ({"status": 401, "times": None}, "tavus_unauthorized"),
    ],
)
async def test_tavus_refusing_or_down_is_502_and_registers_nothing(
    stack_factory: Any, fault: dict[str, Any], code: str
) -> None:
    async with stack_factory() as stack:
        await stack.set_persona()
        stack.tavus.add_fault(match="/conversations", **fault)
        response = await stack.start()
        assert (response.status_code, response.json()["error"]) == (502, code)
        assert "Traceback" not in response.text and stack.tavus.api_key not in response.text
        conversations = await stack.http.get(
            f"/api/demos/{stack.demo_id}/conversations", headers=owner_headers()
        )
        assert conversations.json() == []
        open_slots = await stack.pool.fetchval("select count(*) from agent_conversations")
        assert open_slots == 0


async def test_a_wrong_api_key_is_tavus_unauthorized(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        await stack.set_persona()
        stack.tavus.fake.api_key = "another-key"
        response = await stack.start()
        assert (response.status_code, response.json()["error"]) == (502, "tavus_unauthorized")


async def test_end_sends_one_session_ended_and_the_later_shutdown_is_a_duplicate(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        await stack.set_persona()
        started = (await stack.start()).json()
        conversation_id = started["conversation_id"]
        session = started["session"]["websocket"]
        async with websockets.connect(f"{session['url']}?token={session['token']}") as ws:
            assert json.loads(await ws.recv())["event"] == "subscribed"
            ended = await stack.http.post(
                f"/api/demos/{stack.demo_id}/conversations/{conversation_id}/end",
                headers={"authorization": f"Bearer {session['token']}"},
            )
            assert ended.status_code == 200 and ended.json() == {
                "conversation_id": conversation_id,
                "status": "ended",
            }
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert frame["event"] == "session_ended"
            assert frame["payload"]["conversation_id"] == conversation_id
            await stack.tavus.fake.drain()  # Tavus posts system.shutdown, then the transcript
            callbacks = {c["event_type"]: c for c in stack.tavus.fake.callbacks}
            assert json.loads(callbacks["system.shutdown"]["response"]) == {"status": "duplicate"}
            assert callbacks["application.transcription_ready"]["status"] == 200
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)  # nothing more reached the page
        assert stack.tavus.fake.conversations[conversation_id].status == "ended"
        # Ending again changes nothing and sends nothing.
        again = await stack.http.post(
            f"/api/demos/{stack.demo_id}/conversations/{conversation_id}/end", headers=owner_headers()
        )
        assert again.status_code == 200


async def test_a_shutdown_tavus_decides_itself_ends_it_once_and_frees_the_slot(stack_factory: Any) -> None:
    async with stack_factory(tavus_max_concurrent=1) as stack:
        await stack.set_persona()
        conversation_id = (await stack.start()).json()["conversation_id"]
        response = await stack.tavus.control(
            "POST",
            f"/conversations/{conversation_id}/shutdown",
            {"reason": "participant_left_timeout reached"},
        )
        assert response.status_code < 300
        await stack.tavus.fake.drain()
        [shutdown] = [c for c in stack.tavus.fake.callbacks if c["event_type"] == "system.shutdown"]
        assert json.loads(shutdown["response"]) == {"status": "recorded"}
        assert (await stack.start()).status_code == 201  # its slot is free again


async def test_the_reaper_closes_a_conversation_that_never_ended(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        await stack.set_persona()
        conversation_id = (await stack.start()).json()["conversation_id"]
        # As if TAVUS_MAX_CALL_S + the margin had passed without a shutdown callback.
        await stack.pool.execute(
            "update agent_conversations set ends_by = now() - interval '1 second' where conversation_id = $1",
            conversation_id,
        )

        async def reaped() -> bool:
            # At Tavus first, then here: the reaper tells Tavus, then the page, then records the end and
            # frees the slot (the assertions below read those records).
            if stack.tavus.fake.conversations[conversation_id].status != "ended":
                return False
            slot = await stack.pool.fetchval(
                "select status from agent_conversations where conversation_id = $1", conversation_id
            )
            return bool(slot == "ended")

        await eventually(reaped)
        conversations = await stack.http.get(
            f"/api/demos/{stack.demo_id}/conversations", headers=owner_headers()
        )
        assert conversations.json()[0]["status"] == "ended"
        status = await stack.pool.fetchval(
            "select status from agent_conversations where conversation_id = $1", conversation_id
        )
        assert status == "ended"


async def test_public_start_lets_a_prospect_start_and_renew_its_session(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        await stack.set_persona()
        refused = await stack.start(headers={})
        assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
        wrong = await stack.start(headers=owner_headers("not-the-admin-token-at-all"))
        assert wrong.status_code == 401
        assert stack.tavus.fake.conversations == {}
        await stack.set_persona(public_start=True)
        started = await stack.start(headers={})
        assert started.status_code == 201
        body = started.json()
        token = body["session"]["websocket"]["token"]
        # The prospect holds no grant: its session token renews its own session, nothing else's.
        renewed = await stack.http.post(
            f"/api/demos/{stack.demo_id}/sessions",
            json={"conversation_id": body["conversation_id"]},
            headers={"authorization": f"Bearer {token}"},
        )
        assert renewed.status_code == 201, renewed.text
        other = await stack.http.post(
            f"/api/demos/{stack.demo_id}/sessions",
            json={"conversation_id": "c-someone-else"},
            headers={"authorization": f"Bearer {token}"},
        )
        assert other.status_code == 401


async def test_start_without_a_persona_or_without_tavus_says_so(
    stack_factory: Any, tmp_path: Path, database_url: str
) -> None:
    async with stack_factory() as stack:
        response = await stack.start()
        assert (response.status_code, response.json()["error"]) == (409, "tavus_not_configured")
    app = SeededApp(make_settings(tmp_path / "plain", database_url), database_url)
    port = free_port()
    async with running(app.app, port) as relay, httpx.AsyncClient(base_url=relay) as http:
        response = await http.post(
            f"/api/demos/{app.demo_id}/conversations", json={}, headers=owner_headers()
        )
        assert (response.status_code, response.json()["error"]) == (409, "tavus_not_configured")
        synced = await http.post(f"/api/demos/{app.demo_id}/tavus/sync", headers=owner_headers())
        assert (synced.status_code, synced.json()["error"]) == (409, "tavus_not_configured")
        config = (await http.get("/api/auth-config")).json()
        assert config["tavus"] == {"enabled": False, "delivery": "app_message"}


# --- the agent plays a video, both deliveries ------------------------------------------------------


async def test_the_agent_plays_a_video_through_api_delivery(stack_factory: Any) -> None:
    async with stack_factory(tavus_tool_delivery=ToolDelivery.API) as stack:
        demo = await stack.set_persona()
        await sync_state(stack, "synced")
        started = (await stack.start()).json()
        session = started["session"]["websocket"]
        title = demo["videos"][0]["title"]
        async with websockets.connect(f"{session['url']}?token={session['token']}") as ws:
            assert json.loads(await ws.recv())["event"] == "subscribed"
            call = await stack.tavus.tool_call(
                started["conversation_id"], registry_tool_name(stack.demo_id), {"video_title": title}
            )
            assert call["delivery"] == "api" and call["status"] == 200
            answer = call["response"] if isinstance(call["response"], dict) else json.loads(call["response"])
            assert (
                answer["status"] == "played" and answer["output"] == f'Now playing "{title}" for the viewer.'
            )
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert frame["event"] == "play_video" and frame["payload"]["title"] == title
            assert frame["payload"]["conversation_id"] == started["conversation_id"]


async def test_the_agent_plays_a_video_through_the_page_bridge(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        demo = await stack.set_persona()
        await sync_state(stack, "synced")
        started = (await stack.start()).json()
        conversation_id = started["conversation_id"]
        title = demo["videos"][1]["title"]
        call = await stack.tavus.tool_call(conversation_id, "play_video", {"video_title": title})
        assert call["delivery"] == "app_message"
        [message] = [
            m
            for m in await stack.tavus.room_messages(conversation_id)
            if m["event_type"] == "conversation.tool_call"
        ]
        # What the page does with the room's app-message: forward it with its session token.
        token = started["session"]["websocket"]["token"]
        forwarded = await stack.http.post(
            f"/api/sessions/demo-{stack.demo_id}/tool-calls",
            json=message,
            headers={"authorization": f"Bearer {token}"},
        )
        assert forwarded.status_code == 200 and forwarded.json()["status"] == "played"
        assert forwarded.json()["video"]["title"] == title


# --- who may call the new routes ---------------------------------------------------------------------


async def test_every_tavus_route_refuses_no_and_wrong_credentials(stack_factory: Any) -> None:
    async with stack_factory() as stack:
        await stack.set_persona()
        started = (await stack.start()).json()
        conversation_id = started["conversation_id"]
        second = (await stack.start()).json()
        routes = [
            ("POST", f"/api/demos/{stack.demo_id}/tavus/sync"),
            ("POST", f"/api/demos/{stack.demo_id}/conversations"),
            ("POST", f"/api/demos/{stack.demo_id}/conversations/{conversation_id}/end"),
        ]
        for method, path in routes:
            for headers in (
                {},
                owner_headers("wrong-token-wrong-token-wrong"),
                {"authorization": "Basic eA=="},
            ):
                response = await stack.http.request(method, path, json={}, headers=headers)
                assert response.status_code == 401, (path, headers, response.text)
                assert response.json()["error"] == "unauthorized"
        # Another conversation's session token may not end this one.
        other_token = second["session"]["websocket"]["token"]
        response = await stack.http.post(
            f"/api/demos/{stack.demo_id}/conversations/{conversation_id}/end",
            headers={"authorization": f"Bearer {other_token}"},
        )
        assert response.status_code == 403
        assert stack.tavus.fake.conversations[conversation_id].status == "active"
        assert len(stack.tavus.fake.conversations) == 2  # no start got through without a credential
        assert ADMIN_TOKEN not in response.text


# --- the public tool definition, and both persona shapes -----------------------------------------------


async def test_the_public_tool_body_is_what_the_official_sdk_accepts_once_the_secret_is_in(
    tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> None:
    from tavus_mcp.sdk.schemas.tool import ToolCreate  # the official SDK's request model (extra=forbid)

    settings = make_settings(tmp_path, database_url, public_base_url="https://relay.example.com")
    app = SeededApp(settings, database_url)
    async with running(app.app, free_port()) as relay, httpx.AsyncClient(base_url=relay) as http:
        body = (await http.get(f"/api/demos/{app.demo_id}/tool")).json()["tavus_tool"]
    assert "secret" not in json.dumps(body)  # the public answer never carries it
    with pytest.raises(ValueError, match="secret"):
        ToolCreate.model_validate(body)  # as published, the SDK asks for the secret
    body["delivery"]["api"]["auth"]["secret"] = SECRET
    tool = ToolCreate.model_validate(body)
    assert tool.on_resolve == "generate_response"  # the agent hears our `output`, not fire_and_forget
    assert tool.name == registry_tool_name(app.demo_id)


async def test_a_persona_answered_in_the_documented_data_envelope_syncs_too(stack_factory: Any) -> None:
    async with stack_factory(persona_envelope="data") as stack:
        await stack.set_persona()
        await sync_state(stack, "synced")
        assert [t["function"]["name"] for t in stack.inline_tools()] == ["book_meeting", "play_video"]


async def test_starts_are_limited_per_client_and_the_path_allows_both_methods(stack_factory: Any) -> None:
    async with stack_factory(rate_limit_sessions_per_min=2, tavus_max_concurrent=10) as stack:
        await stack.set_persona(public_start=True)
        assert [(await stack.start(headers={})).status_code for _ in range(2)] == [201, 201]
        limited = await stack.start(headers={})
        assert (limited.status_code, limited.json()["error"]) == (429, "too_many_requests")
        assert int(limited.headers["retry-after"]) >= 1
        assert len(stack.tavus.fake.conversations) == 2
        options = await stack.http.options(f"/api/demos/{stack.demo_id}/conversations")
        assert options.headers["allow"] == "GET, OPTIONS, POST"
