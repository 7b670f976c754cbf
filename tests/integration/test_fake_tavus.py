"""devtools/fake_tavus driven by the official Tavus SDK (tavus-cli 0.11.0's `tavus_mcp.sdk.TavusClient`,
pointed at the fake's /v2 base URL), plus plain httpx where the SDK refuses to send something locally
(JSON Patch on /layers/llm/tools, an http:// tool URL, an echoed secret mask) and for the /__fake control
API. Callbacks and tool deliveries go to a small ASGI receiver on another loopback port, which records the
raw requests so signatures are checked over the exact bytes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from tavus_mcp.sdk import TavusClient, TavusConfig
from tavus_mcp.sdk.auth.session import TavusSession
from tavus_mcp.sdk.errors import TavusApiError, TavusPatchValidationError

from fake_tavus import PersonaSeed
from fake_tavus.cli import command
from tests.support.server import free_port, running
from tests.support.tavus import RunningFakeTavus, running_fake_tavus

PERSONA = "pdemo0000001"
REPLICA = "rdemo0000001"
BARE_PERSONA = "pbare0000001"  # no default replica
SECRET = "tool-hmac-secret"
PLAY_VIDEO = {
    "type": "function",
    "function": {
        "name": "play_video",
        "description": "Play a demo video",
        "parameters": {
            "type": "object",
            "properties": {"video_title": {"type": "string"}},
            "required": ["video_title"],
        },
    },
}


class Receiver:
    """A loopback HTTP endpoint that records every request (raw body included) and answers `answer`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer: tuple[int, Any] = (200, {"ok": True})
        self.url = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.requests.append(
            {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope["query_string"].decode(),
                "headers": {k.decode().lower(): v.decode() for k, v in scope["headers"]},
                "body": body,
            }
        )
        status, content = self.answer
        raw = json.dumps(content).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": raw})

    def bodies(self, path: str) -> list[Any]:
        return [json.loads(r["body"]) for r in self.requests if r["path"] == path]


@pytest.fixture
async def tavus() -> AsyncIterator[RunningFakeTavus]:
    seeds = [PersonaSeed(PERSONA, REPLICA, persona_name="Demo guide"), PersonaSeed(BARE_PERSONA)]
    async with running_fake_tavus(personas=seeds) as running_fake:
        yield running_fake


def make_sdk(tavus: RunningFakeTavus, api_key: str | None = None) -> TavusClient:
    """The official client on the fake; the key is given, so the OS keyring is never consulted."""
    config = TavusConfig(
        public_api_base_url=tavus.base_url,
        portal_api_base_url=f"{tavus.url}/api",
        dev_portal_url="http://127.0.0.1",
        pal_maker_url="http://127.0.0.1",
    )
    return TavusClient(config, TavusSession(api_key=api_key or tavus.api_key, source="test"), timeout=10)


@pytest.fixture
async def sdk(tavus: RunningFakeTavus) -> AsyncIterator[TavusClient]:
    async with make_sdk(tavus) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = Receiver()
    async with running(app, free_port()) as url:
        app.url = url
        yield app


async def api_error(call: Any) -> TavusApiError:
    with pytest.raises(TavusApiError) as caught:
        await call
    return caught.value


# --- conversations ------------------------------------------------------------------------------------


async def test_a_conversation_lives_and_ends_with_its_callbacks_in_order(
    tavus: RunningFakeTavus, sdk: TavusClient, receiver: Receiver
) -> None:
    body = {
        "persona_id": PERSONA,
        "callback_url": f"{receiver.url}/hook?t=abc",
        "conversation_name": "Demo",
        "custom_greeting": "Hello there",
        "properties": {
            "max_call_duration": 600,
            "participant_left_timeout": 10,
            "participant_absent_timeout": 60,
        },
    }
    created = await sdk.conversations.create(body)
    cid = created["conversation_id"]
    assert re.fullmatch(r"c[0-9a-f]{12}", cid)
    assert created["conversation_url"] == f"https://tavus.daily.co/{cid}"
    assert created["status"] == "active"
    assert (created["persona_id"], created["pal_id"]) == (PERSONA, PERSONA)
    assert (created["replica_id"], created["face_id"]) == (REPLICA, REPLICA)  # the persona's default
    assert created["conversation_name"] == "Demo"
    assert created["callback_url"] == body["callback_url"]
    state = (await tavus.control("GET", "/state")).json()
    assert state["conversations"][0]["request"] == body  # kept exactly as received

    got = await sdk.conversations.get(cid)
    assert got["status"] == "active" and got["conversation_id"] == cid
    assert await sdk.conversations.end(cid) is None
    assert (await sdk.conversations.get(cid))["status"] == "ended"
    assert await sdk.conversations.end(cid) is None  # already ended: 200, nothing more posted
    await tavus.fake.drain()

    hooks = receiver.bodies("/hook")
    assert [h["event_type"] for h in hooks] == [
        "system.replica_joined",
        "system.shutdown",
        "application.transcription_ready",
    ]
    assert all(r["query"] == "t=abc" and "x-tavus-signature" not in r["headers"] for r in receiver.requests)
    joined, shutdown, transcript = hooks
    assert joined["properties"] == {"replica_id": REPLICA}
    assert joined["message_type"] == "system" and joined["conversation_id"] == cid
    assert joined["webhook_url"] == body["callback_url"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", joined["timestamp"])
    assert shutdown["properties"]["shutdown_reason"] == "end_conversation_endpoint_hit"
    assert transcript["message_type"] == "application"
    assert [t["role"] for t in transcript["properties"]["transcript"]] == ["system", "assistant", "user"]
    assert [c["status"] for c in tavus.fake.callbacks] == [200, 200, 200]

    verbose = await sdk.conversations.get(cid, verbose="true")
    assert [e["event_type"] for e in verbose["events"]] == [h["event_type"] for h in hooks]
    assert await sdk.conversations.delete(cid) is None
    gone = await api_error(sdk.conversations.get(cid))
    assert (gone.status_code, gone.body) == (400, {"error": "Invalid conversation_id"})
    assert (await api_error(sdk.conversations.end("nope"))).body == {"error": "Invalid conversation_id"}


async def test_conversations_page_and_filter(tavus: RunningFakeTavus, sdk: TavusClient) -> None:
    ids = [(await sdk.conversations.create({"persona_id": PERSONA, "test_mode": True}))["conversation_id"]]
    ids += [(await sdk.conversations.create({"persona_id": PERSONA}))["conversation_id"] for _ in range(3)]
    everything = await sdk.conversations.list_all(page_size=2)
    assert everything["total_count"] == 4
    assert sorted(c["conversation_id"] for c in everything["data"]) == sorted(ids)
    first = await sdk.conversations.list(limit=2, page=1)
    assert await sdk.conversations.list(limit=2, page=0) == first  # 0 is the first page too
    assert first["total_count"] == 4 and len(first["data"]) == 2
    ended = await sdk.conversations.list(status="ended")
    assert [c["conversation_id"] for c in ended["data"]] == [ids[0]]  # test_mode is created ended
    assert (await sdk.conversations.list(status="active"))["total_count"] == 3


async def test_the_concurrency_cap_answers_400_and_test_mode_does_not_count(
    tavus: RunningFakeTavus, sdk: TavusClient
) -> None:
    assert (await tavus.control("PUT", "/config", {"max_concurrent": 2})).json()["max_concurrent"] == 2
    first = await sdk.conversations.create({"persona_id": PERSONA})
    await sdk.conversations.create({"persona_id": PERSONA})
    refused = await api_error(sdk.conversations.create({"persona_id": PERSONA}))
    assert refused.status_code == 400
    assert refused.body == {"message": "User has reached maximum concurrent conversations"}
    trial = await sdk.conversations.create({"persona_id": PERSONA, "test_mode": True})
    assert trial["status"] == "ended"
    await sdk.conversations.end(first["conversation_id"])
    assert (await sdk.conversations.create({"persona_id": PERSONA}))["status"] == "active"


async def test_create_checks_persona_and_replica_and_takes_the_pal_names(sdk: TavusClient) -> None:
    both = await api_error(sdk.conversations.create({"persona_id": PERSONA, "pal_id": BARE_PERSONA}))
    assert both.body == {"error": "Cannot have both persona_id and pal_id"}
    unknown = await api_error(sdk.conversations.create({"persona_id": "pmissing0000"}))
    assert (unknown.status_code, unknown.body) == (400, {"error": "Invalid persona_id"})
    no_replica = await api_error(sdk.conversations.create({"persona_id": BARE_PERSONA}))
    assert no_replica.body == {"error": "Invalid replica_uuid"}
    created = await sdk.conversations.create(
        {"pal_id": BARE_PERSONA, "face_id": "rface0000001", "require_auth": True}
    )
    assert (created["persona_id"], created["replica_id"]) == (BARE_PERSONA, "rface0000001")
    assert created["meeting_token"]


async def test_a_wrong_key_is_refused_with_401(tavus: RunningFakeTavus) -> None:
    async with make_sdk(tavus, api_key="0" * 32) as wrong:
        refused = await api_error(wrong.conversations.list())
    assert (refused.status_code, refused.body) == (401, {"message": "Invalid access token"})
    async with httpx.AsyncClient(trust_env=False) as plain:
        assert (await plain.get(f"{tavus.base_url}/tools")).status_code == 401  # no key at all


# --- personas / PALs ------------------------------------------------------------------------------------


async def test_pals_are_personas_and_patch_is_json_patch(tavus: RunningFakeTavus, sdk: TavusClient) -> None:
    created = await sdk.pals.create(
        {"system_prompt": "Guide demos.", "pal_name": "Guide", "default_face_id": REPLICA}
    )
    pal_id = created["pal_id"]
    assert re.fullmatch(r"p[0-9a-f]{11}", pal_id) and created["persona_id"] == pal_id
    pal = await sdk.pals.get(pal_id)
    assert (pal["pal_name"], pal["persona_name"]) == ("Guide", "Guide")
    assert (pal["default_face_id"], pal["default_replica_id"]) == (REPLICA, REPLICA)
    assert pal["layers"]["llm"]["model"] == "tavus-gemma-4"  # what the SDK filled in

    renamed = await sdk.pals.patch(pal_id, [{"op": "replace", "path": "/pal_name", "value": "Host"}])
    assert (renamed["pal_name"], renamed["persona_name"]) == ("Host", "Host")
    assert (
        await sdk.pals.patch(pal_id, [{"op": "replace", "path": "/pal_name", "value": "Host"}]) is None
    )  # 304
    with pytest.raises(TavusPatchValidationError):  # the SDK refuses inline tools locally
        await sdk.pals.patch(pal_id, [{"op": "add", "path": "/layers/llm/tools", "value": [PLAY_VIDEO]}])

    async with tavus.api() as api:
        path = f"/personas/{pal_id}"
        added = await api.patch(
            path, json=[{"op": "add", "path": "/layers/llm/tools", "value": [PLAY_VIDEO]}]
        )
        assert added.status_code == 200 and added.json()["layers"]["llm"]["tools"] == [PLAY_VIDEO]
        stale = [
            {"op": "test", "path": "/layers/llm/tools", "value": []},
            {"op": "remove", "path": "/layers/llm/tools"},
        ]
        failed = await api.patch(path, json=stale)
        assert (failed.status_code, failed.json()) == (409, {"message": "JSON patch test failed"})
        same = await api.patch(
            path, json=[{"op": "replace", "path": "/layers/llm/tools", "value": [PLAY_VIDEO]}]
        )
        assert (same.status_code, same.content) == (304, b"")
        bad_tool = [{"op": "replace", "path": "/layers/llm/tools", "value": [{"name": "play_video"}]}]
        refused = await api.patch(path, json=bad_tool)
        assert refused.status_code == 422 and "layers.llm.tools[0]" in refused.json()["message"]
        for malformed in (
            {"op": "add"},
            [{"op": "frobnicate", "path": "/x"}],
            [{"op": "remove", "path": "/nope"}],
        ):
            answer = await api.patch(path, json=malformed)
            assert (answer.status_code, answer.json()) == (422, {"message": "Invalid JSON patch format"})
        read_only = await api.patch(path, json=[{"op": "replace", "path": "/persona_id", "value": "pother"}])
        assert read_only.status_code == 422
        legacy = await api.post("/personas", json={"persona_name": "Old", "system_prompt": "x"})
        assert set(legacy.json()) == {"persona_id", "persona_name", "created_at"}
        assert (await api.get(f"/personas/{pal_id}")).json()["layers"]["llm"]["tools"] == [PLAY_VIDEO]

    await tavus.control("PUT", "/config", {"persona_envelope": "data"})
    wrapped = await sdk.pals.get(pal_id)
    assert list(wrapped) == ["data"] and wrapped["data"][0]["pal_id"] == pal_id
    listed = await sdk.pals.list(limit=1, page=0)
    assert listed["total_count"] == 4 and len(listed["data"]) == 1
    assert await sdk.pals.delete(pal_id) is None
    assert (await api_error(sdk.pals.get(pal_id))).body == {"error": "Invalid pal_id"}  # the SDK renames it


# --- the tools registry ---------------------------------------------------------------------------------


def hmac_tool(url: str, name: str = "play_video") -> dict[str, Any]:
    return {
        "name": name,
        "description": "Play a demo video",
        "parameters": PLAY_VIDEO["function"]["parameters"],  # type: ignore[index]
        "delivery": {"api": {"url": url, "auth": {"type": "hmac", "secret": SECRET}}},
        "on_resolve": "generate_response",
    }


async def test_tools_are_validated_stored_and_masked(tavus: RunningFakeTavus, sdk: TavusClient) -> None:
    tool = await sdk.tools.create(hmac_tool("https://relay.example/api/tavus-tool"))
    tool_id = tool["tool_id"]
    assert re.fullmatch(r"t[0-9a-f]{12}", tool_id)
    assert tool["delivery"]["api"] == {
        "url": "https://relay.example/api/tavus-tool",
        "method": "POST",
        "timeout": 10.0,
        "auth": {"type": "hmac", "secret": "********"},
    }
    assert (tool["trigger_type"], tool["is_system_tool"], tool["origin"]) == ("in_call", False, "llm")
    assert (await sdk.tools.get(tool_id))["delivery"]["api"]["auth"]["secret"] == "********"
    assert tavus.fake.tools[tool_id]["delivery"]["api"]["auth"]["secret"] == SECRET
    taken = await api_error(sdk.tools.create(hmac_tool("https://relay.example/other")))
    assert (taken.status_code, taken.body) == (409, {"error": "A tool named play_video already exists"})
    second = await sdk.tools.create({"name": "show_pricing", "description": "Show the pricing page"})
    assert second["delivery"] == {"app_message": True}

    found = await sdk.tools.list(name_or_uuid="play_video")
    assert [t["tool_id"] for t in found["data"]] == [tool_id] and found["total_count"] == 1
    assert (await sdk.tools.list_all(page_size=1))["total_count"] == 2

    patched = await sdk.tools.patch(tool_id, {"description": "Play one demo video"})
    assert patched["description"] == "Play one demo video"
    assert tavus.fake.tools[tool_id]["delivery"]["api"]["auth"]["secret"] == SECRET  # kept
    async with tavus.api() as api:
        masked = {
            "delivery": {
                "api": {"url": "https://relay.example/x", "auth": {"type": "hmac", "secret": "********"}}
            }
        }
        echoed = await api.patch(f"/tools/{tool_id}", json=masked)
        assert echoed.status_code == 400 and "scrub placeholder" in echoed.json()["error"]
        omitted = {"delivery": {"api": {"url": "https://relay.example/moved", "auth": {"type": "hmac"}}}}
        assert (await api.patch(f"/tools/{tool_id}", json=omitted)).status_code == 200
        assert tavus.fake.tools[tool_id]["delivery"]["api"]["auth"]["secret"] == SECRET
        assert tavus.fake.tools[tool_id]["delivery"]["api"]["url"] == "https://relay.example/moved"

        refusals = {
            "bad name": {"name": "9lives", "description": "d"},
            "no description": {"name": "x"},
            "two channels": {
                "name": "x",
                "description": "d",
                "delivery": {"app_message": True, "api": {"url": "https://a"}},
            },
            "public http": {
                "name": "x",
                "description": "d",
                "delivery": {"api": {"url": "http://relay.example/t"}},
            },
            "slow": {
                "name": "x",
                "description": "d",
                "delivery": {"api": {"url": "https://a", "timeout": 61}},
            },
            "hmac query": {
                "name": "x",
                "description": "d",
                "delivery": {
                    "api": {
                        "url": "https://a",
                        "query_params": {"q": "1"},
                        "auth": {"type": "hmac", "secret": "s"},
                    }
                },
            },
            "reserved": {"name": "x", "description": "d", "parameters": {"properties": {"tavus_x": {}}}},
            "on_resolve": {"name": "x", "description": "d", "on_resolve": "later"},
            "undeclared": {"name": "x", "description": "d", "delivery": {"api": {"url": "https://a/{city}"}}},
        }
        for why, body in refusals.items():
            answer = await api.post("/tools", json=body)
            assert answer.status_code == 400 and isinstance(answer.json()["error"], str), why
        loopback = {"name": "local", "description": "d", "delivery": {"api": {"url": "http://127.0.0.1:9/t"}}}
        assert (await api.post("/tools", json=loopback)).status_code == 200  # this fake's one exception
    with pytest.raises(ValueError, match="https"):  # the SDK itself refuses http:// before sending
        await sdk.tools.create(
            {"name": "local2", "description": "d", "delivery": {"api": {"url": "http://127.0.0.1/t"}}}
        )

    assert await sdk.tools.delete(tool_id) is None
    assert (await api_error(sdk.tools.get(tool_id))).status_code == 404


async def test_pal_tools_attach_list_and_detach(tavus: RunningFakeTavus, sdk: TavusClient) -> None:
    first = (await sdk.tools.create({"name": "one", "description": "d"}))["tool_id"]
    second = (await sdk.tools.create({"name": "two", "description": "d"}))["tool_id"]
    attached = await sdk.pals.attach_tools(PERSONA, [first, second])
    assert [t["tool_id"] for t in attached["data"]] == [first, second]
    await sdk.pals.attach_tools(PERSONA, [first])  # idempotent
    assert [t["tool_id"] for t in (await sdk.pals.list_tools(PERSONA))["data"]] == [first, second]
    assert (await sdk.pals.get(PERSONA))["tool_ids"] == [first, second]
    unknown = await api_error(sdk.pals.attach_tools(PERSONA, ["tmissing"]))
    assert unknown.status_code == 400
    assert await sdk.pals.detach_tool(PERSONA, first) is None
    again = await api_error(sdk.pals.detach_tool(PERSONA, first))
    assert (again.status_code, again.body) == (404, {"error": "Tool not attached"})
    async with tavus.api() as api:  # the legacy path, with and without the trailing slash
        assert [t["tool_id"] for t in (await api.get(f"/personas/{PERSONA}/tools")).json()["data"]] == [
            second
        ]
    await sdk.tools.delete(second)  # deleting a tool detaches it everywhere
    assert (await sdk.pals.list_tools(PERSONA))["data"] == []


# --- the agent's tool calls -----------------------------------------------------------------------------


async def test_an_api_tool_call_is_posted_signed_over_the_raw_body(
    tavus: RunningFakeTavus, sdk: TavusClient, receiver: Receiver
) -> None:
    async with tavus.api() as api:  # the SDK refuses the loopback http:// URL; the fake allows it
        created = await api.post("/tools", json=hmac_tool(f"{receiver.url}/api/tavus-tool"))
    tool_id = created.json()["tool_id"]
    await sdk.pals.attach_tools(PERSONA, [tool_id])
    cid = (await sdk.conversations.create({"persona_id": PERSONA}))["conversation_id"]
    receiver.answer = (200, {"result": "playing"})

    answer = await tavus.tool_call(cid, "play_video", {"video_title": "Pricing tour"})
    assert answer["delivery"] == "api" and answer["status"] == 200
    assert answer["response"] == {"result": "playing"} and answer["on_resolve"] == "generate_response"
    [request] = [r for r in receiver.requests if r["path"] == "/api/tavus-tool"]
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["x-tavus-signature"] == expected
    assert request["headers"]["content-type"] == "application/json"
    envelope = json.loads(request["body"])
    assert set(envelope) == {"conversation_id", "name", "arguments", "tool_call_id", "inference_id"}
    assert (envelope["conversation_id"], envelope["name"]) == (cid, "play_video")
    assert json.loads(envelope["arguments"]) == {"video_title": "Pricing tour"}  # a JSON string
    assert envelope["tool_call_id"] == answer["tool_call_id"] and envelope["tool_call_id"].startswith("call_")
    assert request["body"] == json.dumps(envelope, separators=(",", ":")).encode()  # compact, serialized once
    assert tavus.fake.tool_calls[-1]["status"] == 200

    await sdk.tools.patch(
        tool_id,
        {
            "delivery": {
                "api": {"url": "https://127.0.0.1:9/x", "timeout": 2, "auth": {"type": "hmac", "secret": "s"}}
            }
        },
    )
    unreachable = await tavus.tool_call(cid, "play_video", {"video_title": "x"})
    assert unreachable["status"] is None and unreachable["error"]


async def test_an_app_message_tool_call_goes_through_the_room(
    tavus: RunningFakeTavus, sdk: TavusClient
) -> None:
    async with tavus.api() as api:
        patch = [
            {"op": "add", "path": "/layers/llm", "value": {"tools": [PLAY_VIDEO]}}
        ]  # it has no llm layer
        assert (await api.patch(f"/personas/{PERSONA}", json=patch)).status_code == 200
    cid = (await sdk.conversations.create({"persona_id": PERSONA}))["conversation_id"]
    [joined] = await tavus.room_messages(cid)
    assert joined["event_type"] == "system.replica_joined"

    waiting = asyncio.create_task(tavus.room_messages(cid, after=joined["seq"], wait_s=5))
    await asyncio.sleep(0.05)
    answer = await tavus.tool_call(cid, "play_video", {"video_title": "Intro"}, inference_id="inf-1")
    [message] = await asyncio.wait_for(waiting, 3)  # the long poll returns as soon as it is broadcast
    assert answer == {"delivery": "app_message", "tool_call_id": answer["tool_call_id"], "message": message}
    assert message["message_type"] == "conversation" and message["event_type"] == "conversation.tool_call"
    assert message["seq"] == joined["seq"] + 1 and message["conversation_id"] == cid
    assert message["inference_id"] == "inf-1" and message["turn_idx"] == 1
    assert message["properties"]["name"] == "play_video"
    assert json.loads(message["properties"]["arguments"]) == {"video_title": "Intro"}
    assert await tavus.room_messages(cid, after=message["seq"]) == []

    result = {
        "message_type": "conversation",
        "event_type": "conversation.tool_result",
        "conversation_id": cid,
        "properties": {
            "tool_call_id": answer["tool_call_id"],
            "output": "Playing Intro",
            "status": "success",
        },
    }
    assert (await tavus.control("POST", f"/rooms/{cid}/messages", result)).status_code == 204
    assert (await tavus.control("GET", f"/rooms/{cid}/heard")).json() == {"messages": [result]}
    assert tavus.fake.tool_calls[-1]["result"] == result

    missing = await tavus.control("POST", f"/conversations/{cid}/tool-call", {"name": "get_weather"})
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "the persona has no tool named get_weather"},
    )
    await sdk.conversations.end(cid)
    assert (
        await tavus.control("POST", f"/conversations/{cid}/tool-call", {"name": "play_video"})
    ).status_code == 409
    assert (await tavus.control("POST", f"/rooms/{cid}/messages", result)).status_code == 409


async def test_tavus_ending_a_conversation_itself_posts_the_same_callbacks(
    tavus: RunningFakeTavus, sdk: TavusClient, receiver: Receiver
) -> None:
    cid = (await sdk.conversations.create({"persona_id": PERSONA, "callback_url": f"{receiver.url}/h"}))[
        "conversation_id"
    ]
    ended = await tavus.control(
        "POST", f"/conversations/{cid}/shutdown", {"reason": "max_call_duration reached"}
    )
    assert ended.json()["status"] == "ended"
    await tavus.fake.drain()
    hooks = receiver.bodies("/h")
    assert [h["event_type"] for h in hooks][1:] == ["system.shutdown", "application.transcription_ready"]
    assert hooks[1]["properties"]["shutdown_reason"] == "max_call_duration reached"


# --- faults, control, CLI -------------------------------------------------------------------------------


async def test_faults_fail_the_api_but_never_the_control_endpoints(
    tavus: RunningFakeTavus, sdk: TavusClient
) -> None:
    added = await tavus.control(
        "POST", "/faults", {"status": 503, "match": "/conversations", "method": "get"}
    )
    assert added.status_code == 201
    assert (await tavus.control("GET", "/state")).status_code == 200
    assert (await sdk.pals.list()) is not None  # another path: untouched
    failed = await api_error(sdk.conversations.list())
    assert (failed.status_code, failed.body) == (503, {"message": "Injected fault"})
    assert (await sdk.conversations.list())["total_count"] == 0  # times: 1 by default

    await tavus.control("POST", "/faults", {"down": True, "times": None})
    for _ in range(2):
        with pytest.raises(httpx.HTTPError):  # the connection drops before any byte of an answer
            await sdk.tools.list()
    assert (await tavus.control("DELETE", "/faults")).status_code == 204
    assert (await sdk.tools.list())["data"] == []


async def test_reset_seeding_and_config(tavus: RunningFakeTavus, sdk: TavusClient) -> None:
    seeded = await tavus.control(
        "POST", "/personas", {"persona_id": "pseeded00001", "default_replica_id": "rx"}
    )
    assert seeded.status_code == 201 and seeded.json()["default_face_id"] == "rx"
    await sdk.conversations.create({"persona_id": "pseeded00001"})
    await tavus.control("PUT", "/config", {"api_key": "rotated"})
    assert (await api_error(sdk.conversations.list())).status_code == 401
    assert (await tavus.control("PUT", "/config", {"persona_envelope": "wrapped"})).status_code == 400
    assert (await tavus.control("POST", "/reset")).status_code == 204
    state = (await tavus.control("GET", "/state")).json()
    assert [p["persona_id"] for p in state["personas"]] == [PERSONA, BARE_PERSONA]
    assert state["conversations"] == [] and state["config"]["api_key"] == tavus.api_key


def test_the_command_line_and_its_persona_syntax() -> None:
    assert PersonaSeed.parse("pabc:rdef") == PersonaSeed("pabc", "rdef")
    assert PersonaSeed.parse("pabc") == PersonaSeed("pabc")
    with pytest.raises(ValueError, match="ID:REPLICA"):
        PersonaSeed.parse("pabc:")
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0 and "--persona-envelope" in result.output
    assert CliRunner().invoke(command, ["--persona", ":r"]).exit_code == 2
