"""`/v2/conversations`: create, get, list, end, delete (docs: api-reference/conversations/*).

Creating one takes either name family (`persona_id`/`replica_id`, or `pal_id`/`face_id` as LiveKit's plugin
sends), keeps the body exactly as received (tests read it in `/__fake/state`), counts against the account's
concurrency cap unless `test_mode` (created `ended`, no replica joins, no callbacks), and then, as the replica
joins, posts `system.replica_joined` to `callback_url` and broadcasts it in the room. Ending one posts
`system.shutdown` (`end_conversation_endpoint_hit`) then `application.transcription_ready`. Unknown or
malformed ids are 400 `{"error": "Invalid conversation_id"}` (Tavus's documented answer, not 404).

Not simulated: the timers in `properties` (max_call_duration, participant_*_timeout) are stored but never
fire; `POST /__fake/conversations/{id}/shutdown` ends a conversation the way they would."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from fake_tavus.fake import Conversation, FakeTavus, new_conversation_id
from fake_tavus.outbound import queue_callbacks
from fake_tavus.web import Invalid, empty, error, ok, page_of, read_json

_STRING_FIELDS = (
    "persona_id",
    "pal_id",
    "replica_id",
    "face_id",
    "callback_url",
    "conversation_name",
    "conversational_context",
    "custom_greeting",
)
_BOOL_FIELDS = ("test_mode", "audio_only", "require_auth")
_INT_PROPERTIES = ("max_call_duration", "participant_left_timeout", "participant_absent_timeout")
_CAPACITY = "User has reached maximum concurrent conversations"


def _one_of(body: dict[str, Any], legacy: str, new: str) -> str | None:
    first, second = body.get(legacy), body.get(new)
    if first and second and first != second:
        raise Invalid(f"Cannot have both {legacy} and {new}")
    value = first or second
    return value if isinstance(value, str) and value else None


def _check_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("Invalid request body")
    for name in _STRING_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise Invalid(f"{name} must be a string")
    for name in _BOOL_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise Invalid(f"{name} must be a boolean")
    properties = body.get("properties")
    if properties is not None:
        if not isinstance(properties, dict):
            raise Invalid("properties must be an object")
        for name in _INT_PROPERTIES:
            value = properties.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise Invalid(f"properties.{name} must be a non-negative integer")
    callback_url = body.get("callback_url")
    if callback_url and not callback_url.lower().startswith(("http://", "https://")):
        raise Invalid("callback_url must be an http(s) URL")
    return body


def create_conversation(fake: FakeTavus, body: Any) -> Response[Any]:
    """The create logic, shared with nothing else but kept out of the handler for reading."""
    try:
        body = _check_body(body)
        persona_id = _one_of(body, "persona_id", "pal_id")
        replica_id = _one_of(body, "replica_id", "face_id")
    except Invalid as exc:
        return error(400, str(exc))
    persona = fake.personas.get(persona_id) if persona_id is not None else None
    if persona_id is not None and persona is None:
        return error(400, "Invalid persona_id")
    replica_id = replica_id or (persona.default_replica_id if persona is not None else None)
    if not replica_id:
        return error(400, "Invalid replica_uuid")
    test_mode = body.get("test_mode") is True
    if not test_mode and fake.active_count() >= fake.max_concurrent:
        return error(400, _CAPACITY, key="message")
    conversation_id = new_conversation_id()
    conversation = Conversation(
        conversation_id=conversation_id,
        request=body,
        persona_id=persona_id,
        replica_id=replica_id,
        conversation_name=body.get("conversation_name") or f"New Conversation {conversation_id}",
        callback_url=body.get("callback_url") or None,
        status="ended" if test_mode else "active",
        test_mode=test_mode,
        meeting_token=f"fake-meeting-token.{secrets.token_urlsafe(24)}" if body.get("require_auth") else None,
    )
    fake.conversations[conversation_id] = conversation
    fake.room(conversation_id)
    if not test_mode:  # the replica joins: the callback, and the same event in the room
        joined = fake.event(conversation, "system.replica_joined", {"replica_id": replica_id})
        fake.broadcast(
            conversation,
            {
                "message_type": "system",
                "event_type": "system.replica_joined",
                "conversation_id": conversation_id,
                "properties": {"replica_id": replica_id},
            },
        )
        queue_callbacks(fake, conversation, [joined])
    answer = conversation.to_json()
    del answer["updated_at"]
    return ok(answer)


def make_conversation_handlers(fake: FakeTavus) -> list[HTTPRouteHandler]:
    @post("/v2/conversations", status_code=200)
    async def create(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            body = await read_json(request)
        except Invalid as exc:
            return error(400, str(exc))
        return create_conversation(fake, body)

    @get("/v2/conversations")
    async def list_conversations(request: Request[Any, Any, Any]) -> Response[Any]:
        status = request.query_params.get("status")
        if status not in (None, "", "active", "ended"):
            return error(400, "status must be active or ended")
        rows = [
            c
            for c in reversed(fake.conversations.values())  # newest first
            if not c.deleted and (not status or c.status == status)
        ]
        try:
            page = page_of(request, rows, default_limit=10)
        except Invalid as exc:
            return error(400, str(exc))
        return ok({"data": [c.to_json() for c in page], "total_count": len(rows)})

    @get("/v2/conversations/{conversation_id:str}")
    async def get_conversation(
        conversation_id: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[Any]:
        conversation = fake.live_conversation(conversation_id)
        if conversation is None:
            return error(400, "Invalid conversation_id")
        verbose = request.query_params.get("verbose", "").lower() == "true"
        return ok(conversation.to_json(verbose=verbose))

    @post("/v2/conversations/{conversation_id:str}/end", status_code=200)
    async def end(conversation_id: FromPath[str]) -> Response[Any]:
        conversation = fake.live_conversation(conversation_id)
        if conversation is None:
            return error(400, "Invalid conversation_id")
        queue_callbacks(fake, conversation, fake.end(conversation, "end_conversation_endpoint_hit"))
        return empty(200)

    @delete("/v2/conversations/{conversation_id:str}", status_code=200)
    async def delete_conversation(conversation_id: FromPath[str]) -> Response[Any]:
        """`?hard=true|false`: either way it is gone from the API (kept, flagged, in /__fake/state). An
        active one ends first, as its Daily room is deleted."""
        conversation = fake.live_conversation(conversation_id)
        if conversation is None:
            return error(400, "Invalid conversation_id")
        queue_callbacks(fake, conversation, fake.end(conversation, "daily_room_has_been_deleted"))
        conversation.deleted = True
        return empty(204)

    @post("/v2/conversations/{conversation_id:str}/send-app-message", status_code=200)
    async def send_app_message(
        conversation_id: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[Any]:
        """The newer documented server-side way to send an interaction: heard by the agent, like a
        participant's app-message in the room."""
        conversation = fake.live_conversation(conversation_id)
        if conversation is None:
            return error(400, "Invalid conversation_id")
        if conversation.status != "active":
            return error(400, "App messages can only be sent to active conversations.")
        try:
            message = await read_json(request)
        except Invalid as exc:
            return error(400, str(exc))
        if not isinstance(message, dict):
            return error(400, "The body must be an interaction object")
        hear(fake, conversation, message)
        return ok({"status": "accepted"})

    return [create, list_conversations, get_conversation, end, delete_conversation, send_app_message]


def hear(fake: FakeTavus, conversation: Conversation, message: dict[str, Any]) -> None:
    """A participant's app-message reaches the agent: recorded, and a `conversation.tool_result` is joined
    to the tool call it answers."""
    room = fake.room(conversation.conversation_id)
    room.heard.append(message)
    room.notify()
    properties = message.get("properties")
    if message.get("event_type") == "conversation.tool_result" and isinstance(properties, dict):
        for call in fake.tool_calls:
            if call.get("tool_call_id") == properties.get("tool_call_id"):
                call["result"] = message
