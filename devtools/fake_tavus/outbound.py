"""What the fake sends out, as Tavus would: conversation callbacks to `callback_url`, and an agent's tool call
to a registry tool's `delivery.api` endpoint. Both are recorded (`FakeTavus.callbacks`, `.tool_calls`) with
the answer's status or the transport error, so a test can assert what its receiver was given.

- Callbacks: one JSON POST per event, unsigned (Tavus documents no signature), no retries (none documented),
  posted in order per conversation: a conversation's next batch waits for its previous one.
- Tool calls (`delivery.api`): with `auth.type` hmac, the fixed Tavus envelope `{"conversation_id", "name",
  "arguments" (a JSON string), "tool_call_id", "inference_id"}` serialized once, compactly, to the static
  url, signed `X-Tavus-Signature: hex(HMAC-SHA256(secret, exact body bytes))`. Other auth types: `{name}`
  placeholders in url / query_params / body_template are filled from the arguments (the envelope is the body
  when there is no template), then the auth header (or query parameter) is added. No retries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from fake_tavus.fake import Conversation, FakeTavus, now_iso
from fake_tavus.validation import BODYLESS, PLACEHOLDER_RE

CALLBACK_TIMEOUT_S = 10.0


def sign(secret: str, body: bytes) -> str:
    """The `X-Tavus-Signature` value: lowercase hex HMAC-SHA256 over the exact raw body, no prefix."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# --- callbacks ------------------------------------------------------------------------------------------


def queue_callbacks(fake: FakeTavus, conversation: Conversation, envelopes: list[dict[str, Any]]) -> None:
    """Post `envelopes` to the conversation's callback_url in the background, after its earlier ones."""
    if not conversation.callback_url or not envelopes:
        return
    previous = conversation.outbox
    conversation.outbox = fake.spawn(_post_callbacks(fake, conversation.callback_url, envelopes, previous))


async def _post_callbacks(
    fake: FakeTavus, url: str, envelopes: list[dict[str, Any]], previous: asyncio.Task[None] | None
) -> None:
    if previous is not None:
        await asyncio.wait({previous})  # order per conversation; its outcome does not matter
    for envelope in envelopes:
        record: dict[str, Any] = {
            "url": url,
            "event_type": envelope["event_type"],
            "conversation_id": envelope["conversation_id"],
            "body": envelope,
            "status": None,
            "error": None,
            "sent_at": now_iso(),
        }
        try:
            response = await fake.http.post(
                url,
                content=compact(envelope),
                timeout=CALLBACK_TIMEOUT_S,
                headers={"content-type": "application/json"},
            )
            record["status"] = response.status_code
            record["response"] = response.text  # what the receiver answered (Tavus ignores it)
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        fake.callbacks.append(record)


# --- tool calls with delivery.api -------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _fill_text(template: str, values: Mapping[str, Any], *, url: bool = False) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return quote(_text(values[name]), safe="") if url else _text(values[name])

    return PLACEHOLDER_RE.sub(one, template)


def _fill(value: Any, values: Mapping[str, Any]) -> Any:
    """A body_template with its placeholders filled: a string that is exactly `{name}` becomes the argument's
    JSON value, other strings get the text substituted."""
    if isinstance(value, str):
        whole = PLACEHOLDER_RE.fullmatch(value)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]
        return _fill_text(value, values)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


async def _oauth2_token(fake: FakeTavus, auth: Mapping[str, Any], timeout_s: float) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": auth["client_id"],
        "client_secret": auth["client_secret"],
    }
    if auth.get("scope"):
        form["scope"] = str(auth["scope"])
    response = await fake.http.post(str(auth["token_url"]), data=form, timeout=timeout_s)
    token = response.json().get("access_token") if response.status_code < 300 else None
    if not isinstance(token, str):
        raise httpx.HTTPError(f"the token endpoint answered {response.status_code} without access_token")
    return token


async def call_api_tool(
    fake: FakeTavus,
    conversation: Conversation,
    tool: Mapping[str, Any],
    arguments: Any,
    arguments_text: str,
    tool_call_id: str,
    inference_id: str,
) -> dict[str, Any]:
    """Deliver one tool call to `tool`'s endpoint and wait for the answer; the record (also appended to
    `fake.tool_calls`)."""
    api: Mapping[str, Any] = tool["delivery"]["api"]
    auth: Mapping[str, Any] = api.get("auth") or {"type": "none"}
    method = str(api["method"])
    envelope = {
        "conversation_id": conversation.conversation_id,
        "name": tool["name"],
        "arguments": arguments_text,
        "tool_call_id": tool_call_id,
        "inference_id": inference_id,
    }
    values = {
        **(arguments if isinstance(arguments, dict) else {}),
        "tavus_conversation_id": conversation.conversation_id,
        "tavus_tool_call_id": tool_call_id,
        "tavus_inference_id": inference_id,
    }
    headers: dict[str, str] = dict(api.get("headers") or {})
    params: dict[str, str] = {}
    body: bytes | None
    if auth["type"] == "hmac":
        url, body = str(api["url"]), compact(envelope)
    else:
        url = _fill_text(str(api["url"]), values, url=True)
        params = {k: _fill_text(v, values) for k, v in (api.get("query_params") or {}).items()}
        if method in BODYLESS:
            body = None
        elif api.get("body_template") is not None:
            body = compact(_fill(api["body_template"], values))
        else:
            body = compact(envelope)
    if body is not None:
        headers["Content-Type"] = str(api.get("content_type") or "application/json")
    record: dict[str, Any] = {
        "delivery": "api",
        "conversation_id": conversation.conversation_id,
        "tool_id": tool["tool_id"],
        "name": tool["name"],
        "tool_call_id": tool_call_id,
        "inference_id": inference_id,
        "arguments": arguments_text,
        "on_resolve": tool.get("on_resolve"),
        "request": None,
        "status": None,
        "response": None,
        "error": None,
        "at": now_iso(),
    }
    try:
        if auth["type"] == "hmac":
            headers["X-Tavus-Signature"] = sign(str(auth["secret"]), body or b"")
        elif auth["type"] == "bearer":
            headers["Authorization"] = f"Bearer {auth['token']}"
        elif auth["type"] == "basic":
            pair = f"{auth['username']}:{auth['password']}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif auth["type"] == "api_key":
            (params if auth.get("location") == "query" else headers)[str(auth["name"])] = str(auth["value"])
        elif auth["type"] == "oauth2_client_credentials":
            headers["Authorization"] = f"Bearer {await _oauth2_token(fake, auth, float(api['timeout']))}"
        record["request"] = {
            "method": method,
            "url": url,
            "params": params,
            "headers": headers,
            "body": body.decode() if body is not None else None,
        }
        response = await fake.http.request(
            method, url, content=body, headers=headers, params=params or None, timeout=float(api["timeout"])
        )
        record["status"] = response.status_code
        try:
            record["response"] = response.json()
        except ValueError:
            record["response"] = response.text
    except httpx.HTTPError as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    fake.tool_calls.append(record)
    return record
