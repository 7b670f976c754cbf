"""Control endpoints under /__fake/: what a test (Python, Node or a browser page) does that a real Tavus
account does by itself, and reads what the fake was sent. Unauthenticated (the fake only ever listens on a
developer's or a test machine), never affected by injected faults, CORS open like the rest of the app.

- `GET /__fake/state` -> everything, secrets unmasked: config, personas, conversations (with the create body
  exactly as received, `request`), tools, attachments, callbacks sent, tool calls made, rooms, /v2 requests.
- `POST /__fake/personas` `{persona_id?, persona_name?, default_replica_id?, layers?, ...}` -> 201 persona
  (seeding, no validation; an existing id is replaced, keeping its attached tools).
- `GET|PUT /__fake/config` `{"max_concurrent"?, "api_key"?, "persona_envelope"?: "bare"|"data"}` -> config.
- `POST /__fake/conversations/{id}/shutdown` `{"reason"?}` -> Tavus ends the conversation itself (a timeout,
  say; default reason `participant_left_timeout`): the same callbacks as `/end`, none when already ended.
- `POST /__fake/conversations/{id}/tool-call` `{"name", "arguments"?: object or JSON string,
  "tool_call_id"?, "inference_id"?, "turn_idx"?}` -> the persona's agent calls its tool `name`: a registry
  tool attached to the persona (checked first) or an inline `layers.llm.tools` function. `delivery.api`:
  POSTed to the tool's endpoint and awaited -> `{"delivery": "api", "tool_call_id", "status" (null when
  unreachable), "response", "on_resolve", "error"}`. `delivery.app_message` or inline: a
  `conversation.tool_call` app-message in the room -> `{"delivery": "app_message", "tool_call_id",
  "message"}`. 404 when the persona has no such tool, 409 when the conversation is not active.
- The room (the stand-in for the conversation's Daily data channel): `GET /__fake/rooms/{id}/messages
  ?after=<seq>&wait_s=<0..10>` -> `{"messages"}` the agent broadcast with seq > after (waits up to wait_s
  for one); `POST /__fake/rooms/{id}/messages` an app-message from a participant -> 204, heard by the agent
  (409 once the conversation ended: its room is gone); `GET /__fake/rooms/{id}/heard` -> `{"messages"}`.
- `GET|POST|DELETE /__fake/faults` (see `faults`), `POST /__fake/reset` -> 204 (back to the start state)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from fake_tavus.conversations import hear
from fake_tavus.fake import (
    PERSONA_ENVELOPES,
    Conversation,
    FakeTavus,
    new_inference_id,
    new_tool_call_id,
    now_iso,
)
from fake_tavus.faults import Fault
from fake_tavus.outbound import call_api_tool, queue_callbacks
from fake_tavus.web import Invalid, empty, error, ok, read_json

MAX_WAIT_S = 10.0
DEFAULT_SHUTDOWN_REASON = "participant_left_timeout"  # the docs' example payload spells it so


async def _object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await read_json(request, empty={})
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


def _conversation(fake: FakeTavus, conversation_id: str) -> Conversation:
    conversation = fake.live_conversation(conversation_id)
    if conversation is None:
        raise LookupError(f"no conversation {conversation_id}")
    return conversation


async def _tool_call(fake: FakeTavus, conversation: Conversation, body: dict[str, Any]) -> Response[Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        return error(400, "name is required")
    if conversation.status != "active":
        return error(409, f"conversation {conversation.conversation_id} is not active")
    persona = fake.personas.get(conversation.persona_id or "")
    found = fake.persona_tool(persona, name) if persona is not None else None
    if found is None:
        return error(404, f"the persona has no tool named {name}")
    kind, tool = found
    raw = body.get("arguments", {})
    if isinstance(raw, str):
        text = raw
        try:
            arguments: Any = json.loads(raw)
        except ValueError:
            arguments = None
    else:
        arguments, text = raw, json.dumps(raw)
    tool_call_id = str(body.get("tool_call_id") or new_tool_call_id())
    inference_id = str(body.get("inference_id") or new_inference_id())
    conversation.turn_idx += 1
    turn_idx = body.get("turn_idx", conversation.turn_idx)
    if kind == "registry" and "api" in tool["delivery"]:
        record = await call_api_tool(fake, conversation, tool, arguments, text, tool_call_id, inference_id)
        keys = ("delivery", "tool_call_id", "status", "response", "on_resolve", "error")
        return ok({k: record[k] for k in keys})
    message = fake.broadcast(
        conversation,
        {
            "message_type": "conversation",
            "event_type": "conversation.tool_call",
            "conversation_id": conversation.conversation_id,
            "inference_id": inference_id,
            "turn_idx": turn_idx,
            "properties": {"name": name, "arguments": text, "tool_call_id": tool_call_id},
        },
    )
    fake.tool_calls.append(
        {
            "delivery": "app_message",
            "conversation_id": conversation.conversation_id,
            "tool_id": tool.get("tool_id") if kind == "registry" else None,
            "name": name,
            "tool_call_id": tool_call_id,
            "inference_id": inference_id,
            "arguments": text,
            "message": message,
            "at": now_iso(),
        }
    )
    return ok({"delivery": "app_message", "tool_call_id": tool_call_id, "message": message})


def _set_config(fake: FakeTavus, body: dict[str, Any]) -> None:
    unknown = sorted(set(body) - {"max_concurrent", "api_key", "persona_envelope"})
    if unknown:
        raise Invalid(f"unknown setting(s) {unknown}")
    max_concurrent = body.get("max_concurrent", fake.max_concurrent)
    if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int) or max_concurrent < 0:
        raise Invalid("max_concurrent must be a non-negative integer")
    api_key = body.get("api_key", fake.api_key)
    if not isinstance(api_key, str) or not api_key:
        raise Invalid("api_key must be a non-empty string")
    envelope = body.get("persona_envelope", fake.persona_envelope)
    if envelope not in PERSONA_ENVELOPES:
        raise Invalid(f"persona_envelope must be one of {', '.join(PERSONA_ENVELOPES)}")
    fake.max_concurrent, fake.api_key, fake.persona_envelope = max_concurrent, api_key, envelope


def _fault(body: dict[str, Any]) -> Fault:
    status = body.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise Invalid("status must be an integer")
    times = body.get("times", 1)
    if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
        raise Invalid("times must be an integer or null")
    method = body.get("method")
    match = body.get("match")
    try:
        return Fault(
            status=status,
            delay_s=float(body.get("delay_s") or 0),
            down=body.get("down") is True,
            times=times,
            match=str(match) if match is not None else None,
            method=str(method).upper() if method is not None else None,
        )
    except (TypeError, ValueError) as exc:
        raise Invalid(str(exc)) from None


def make_control_handlers(fake: FakeTavus) -> list[HTTPRouteHandler]:
    @get("/__fake/state")
    async def state() -> dict[str, Any]:
        return fake.state_json()

    @post("/__fake/personas", status_code=201)
    async def seed_persona(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            body = await _object(request)
        except Invalid as exc:
            return error(400, str(exc))
        if body.get("persona_id") is not None and (
            not isinstance(body["persona_id"], str) or not body["persona_id"] or "/" in body["persona_id"]
        ):
            return error(400, "persona_id must be a non-empty string without /")
        return ok(fake.persona_json(fake.seed_persona(body)), status=201)

    @get("/__fake/config")
    async def get_config() -> dict[str, Any]:
        return fake.config_json()

    @put("/__fake/config")
    async def put_config(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            _set_config(fake, await _object(request))
        except Invalid as exc:
            return error(400, str(exc))
        return ok(fake.config_json())

    @post("/__fake/conversations/{conversation_id:str}/shutdown", status_code=200)
    async def shutdown(conversation_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            body = await _object(request)
            conversation = _conversation(fake, conversation_id)
        except Invalid as exc:
            return error(400, str(exc))
        except LookupError as exc:
            return error(404, str(exc))
        reason = body.get("reason") or DEFAULT_SHUTDOWN_REASON
        queue_callbacks(fake, conversation, fake.end(conversation, str(reason)))
        return ok(conversation.to_json(verbose=True))

    @post("/__fake/conversations/{conversation_id:str}/tool-call", status_code=200)
    async def tool_call(conversation_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            body = await _object(request)
            conversation = _conversation(fake, conversation_id)
        except Invalid as exc:
            return error(400, str(exc))
        except LookupError as exc:
            return error(404, str(exc))
        return await _tool_call(fake, conversation, body)

    @get("/__fake/rooms/{conversation_id:str}/messages")
    async def room_messages(conversation_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            _conversation(fake, conversation_id)
            after = int(request.query_params.get("after") or 0)
            wait_s = min(MAX_WAIT_S, max(0.0, float(request.query_params.get("wait_s") or 0)))
        except LookupError as exc:
            return error(404, str(exc))
        except ValueError:
            return error(400, "after must be an integer and wait_s a number")
        room = fake.room(conversation_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            messages = [m for m in room.messages if m["seq"] > after]
            remaining = deadline - loop.time()
            if messages or remaining <= 0:
                return ok({"messages": messages})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(room.changed.wait(), remaining)

    @post("/__fake/rooms/{conversation_id:str}/messages", status_code=200)
    async def room_send(conversation_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            conversation = _conversation(fake, conversation_id)
            message = await read_json(request)
        except LookupError as exc:
            return error(404, str(exc))
        except Invalid as exc:
            return error(400, str(exc))
        if not isinstance(message, dict):
            return error(400, "an app-message is a JSON object")
        if conversation.status != "active":
            return error(409, "The conversation's room is no longer available.")
        hear(fake, conversation, message)
        return empty(204)

    @get("/__fake/rooms/{conversation_id:str}/heard")
    async def room_heard(conversation_id: FromPath[str]) -> Response[Any]:
        try:
            _conversation(fake, conversation_id)
        except LookupError as exc:
            return error(404, str(exc))
        return ok({"messages": fake.room(conversation_id).heard})

    @get("/__fake/faults")
    async def list_faults() -> list[dict[str, Any]]:
        return [f.to_json() for f in fake.faults.active()]

    @post("/__fake/faults", status_code=201)
    async def add_fault(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            fault = _fault(await _object(request))
        except Invalid as exc:
            return error(400, str(exc))
        return ok(fake.faults.add(fault).to_json(), status=201)

    @delete("/__fake/faults")
    async def clear_faults() -> None:
        fake.faults.clear()

    @post("/__fake/reset", status_code=204)
    async def reset() -> None:
        fake.reset()

    return [
        state,
        seed_persona,
        get_config,
        put_config,
        shutdown,
        tool_call,
        room_messages,
        room_send,
        room_heard,
        list_faults,
        add_fault,
        clear_faults,
        reset,
    ]
