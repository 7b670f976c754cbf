"""Realtime's REST broadcast, `POST /realtime/v1/api/broadcast`, as supabase/realtime's BroadcastController,
AuthTenant plug and BatchBroadcast schema answer it.

Faithful: the token is `Authorization: Bearer` (else the `apikey` header) and must be a JWT signed with the
project secret (401 `{"message": "Unauthorized"}`); the body is `{"messages": [{topic, event, payload,
private?, id?}]}` validated like the Ecto changeset (422 `{"errors": {...}}`, 400 for a body that is not
JSON); 202 with an empty body; public messages reach public channels of `realtime:<topic>`; private ones
reach private channels only when the caller may write the topic (service_role, or the `authorize` hook, our
stand-in for the realtime.messages RLS policy), otherwise they are dropped silently as Realtime does.
A message `id` becomes `meta.id` in the delivered payload.
Added like the hosted gateway: a missing or unknown `apikey` header is refused with 401 before Realtime."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from fake_supabase.fake import FakeSupabase
from fake_supabase.keys import TokenError, verify_token

_BLANK = "can't be blank"
_INVALID = "is invalid"


def _message_errors(message: Any) -> dict[str, list[str]]:
    if not isinstance(message, dict):
        return {"messages": [_INVALID]}
    errors: dict[str, list[str]] = {}
    for name, kind in (("topic", str), ("event", str), ("payload", dict)):
        value = message.get(name)
        if value is None or value == "":
            errors[name] = [_BLANK]
        elif not isinstance(value, kind):
            errors[name] = [_INVALID]
    if "private" in message and message["private"] is not None and not isinstance(message["private"], bool):
        errors["private"] = [_INVALID]
    if "id" in message and message["id"] is not None and not isinstance(message["id"], str):
        errors["id"] = [_INVALID]
    return errors


def validate_batch(body: Any) -> dict[str, Any] | None:
    """Ecto-style errors for a broadcast batch, or None when it is valid."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if messages is None or messages == []:
        return {"messages": [_BLANK]}
    if not isinstance(messages, list):
        return {"messages": [_INVALID]}
    per_message = [_message_errors(m) for m in messages]
    return {"messages": per_message} if any(per_message) else None


def _token(request: Request[Any, Any, Any]) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if authorization and scheme.lower() == "bearer" and token:
        return token
    return request.headers.get("apikey")


def make_realtime_rest_handlers(fake: FakeSupabase) -> list[HTTPRouteHandler]:
    @post("/realtime/v1/api/broadcast", status_code=202)
    async def broadcast(request: Request[Any, Any, Any]) -> Response[Any]:
        apikey = request.headers.get("apikey") or request.query_params.get("apikey")
        if not apikey:
            return Response(content={"message": "No API key found in request"}, status_code=401)
        if apikey not in (fake.anon_key, fake.service_key):
            return Response(content={"message": "Invalid API key"}, status_code=401)
        token = _token(request)
        try:
            claims = verify_token(token or "", fake.jwt_secret, require_role_and_exp=False)
        except TokenError:
            return Response(content={"message": "Unauthorized"}, status_code=401)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return Response(content="Bad Request", status_code=400)
        if (errors := validate_batch(body)) is not None:
            return Response(content={"errors": errors}, status_code=422)
        for message in body["messages"]:
            private = bool(message.get("private") or False)
            payload: dict[str, Any] = {
                "payload": message["payload"],
                "event": message["event"],
                "type": "broadcast",
            }
            if message.get("id"):
                payload["meta"] = {"id": message["id"]}
            allowed = not private or fake.may_use_private(message["topic"], claims)
            delivered = await fake.hub.broadcast_json(message["topic"], private, payload) if allowed else 0
            fake.stats.broadcasts.append(
                {
                    "topic": message["topic"],
                    "event": message["event"],
                    "payload": message["payload"],
                    "private": private,
                    "delivered": delivered,
                    "authorized": allowed,
                }
            )
        return Response(content=b"", status_code=202)

    return [broadcast]
