"""Telling Tavus payloads apart: tool calls in three shapes (the app-message `conversation.tool_call`, the
Tools-API flat body, the legacy `tool_call`), lifecycle events of the `callback_url`, and the rest, which
is ignored. `event_type` decides when present; else `name` + `arguments` make a Tools-API call."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from demo_relay.domain.errors import InvalidArguments, MalformedJson, PayloadTooLarge
from demo_relay.domain.models import IgnoredEvent, LifecycleEvent, ParsedEvent, ToolCall
from demo_relay.domain.titles import tidy_title

TOOL_CALL_EVENT_TYPES = frozenset({"conversation.tool_call", "tool_call"})
LIFECYCLE_EVENT_TYPES = frozenset(
    {
        "system.replica_joined",
        "system.shutdown",
        "application.transcription_ready",
        "application.recording_ready",
        "application.perception_analysis",
    }
)
MAX_TITLE_CHARS = 300
# Tavus payloads nest 3 or 4 levels; anything far deeper is an attack on whoever walks it.
MAX_DEPTH = 32


def check_size(body: bytes, max_bytes: int) -> None:
    """The first check of every delivery: nothing else is computed for a body that is too large."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")


def read_event(body: bytes) -> tuple[Any, ParsedEvent]:
    """The body's JSON document (MalformedJson if it is none) and what it is (an IgnoredEvent says why it
    is not for us)."""
    document = decode_json(body)
    return document, parse_event(document)


def decode_json(body: bytes) -> Any:
    """Strict JSON: what Python's parser lets through but nothing downstream can store or send (NaN,
    Infinity, numbers too large for a float, lone UTF-16 surrogates, nesting deeper than MAX_DEPTH) is
    malformed here, so it is refused before it is claimed, stored or broadcast."""
    try:
        document = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise MalformedJson(f"the request body is nested deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedJson(f"the request body is not valid JSON: {_reason(exc)}") from None
    _check_tree(document)
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _reason(exc: ValueError) -> str:
    return str(exc).split(":")[0][:100] if isinstance(exc, json.JSONDecodeError) else str(exc)[:100]


def _check_tree(document: Any) -> None:
    """Depth and strings of the whole document, without recursion (a hostile body must not exhaust the
    stack of whoever walks it next)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise MalformedJson(f"the request body is nested deeper than {MAX_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                if key is not None:
                    _check_text(key)
                stack.append((item, depth + 1))


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJson("the request body holds a lone UTF-16 surrogate (\\ud800-\\udfff)") from None


def parse_event(document: Any) -> ParsedEvent:
    if not isinstance(document, dict):
        return IgnoredEvent("the body is not a JSON object")
    event_type = document.get("event_type")
    if event_type is not None:
        if event_type in TOOL_CALL_EVENT_TYPES:
            return _tool_call(document, _mapping(document.get("properties")))
        if event_type in LIFECYCLE_EVENT_TYPES:
            return LifecycleEvent(
                event_type=event_type,
                conversation_id=_text(document.get("conversation_id")),
                timestamp=_text(document.get("timestamp")),
                properties=_mapping(document.get("properties")),
            )
        return IgnoredEvent(f"event type {str(event_type)[:80]!r} is not handled")
    if "name" in document and "arguments" in document:  # Tools-API (delivery.api) flat body
        return _tool_call(document, {})
    return IgnoredEvent("neither a tool call nor a lifecycle event")


def _tool_call(document: Mapping[str, Any], properties: Mapping[str, Any]) -> ParsedEvent:
    def field(key: str) -> Any:
        value = properties.get(key)
        return document.get(key) if value is None else value

    name = field("name")
    if not isinstance(name, str) or not name:
        return IgnoredEvent("tool call without a tool name")
    seq = field("seq")
    return ToolCall(
        name=name,
        arguments=properties["arguments"] if "arguments" in properties else document.get("arguments"),
        conversation_id=_text(field("conversation_id")),
        tool_call_id=_text(field("tool_call_id")),
        inference_id=_text(field("inference_id")),
        seq=seq if isinstance(seq, int | str) and not isinstance(seq, bool) else None,
    )


def video_title(arguments: Any) -> str:
    """The `video_title` argument of a play_video call. Tavus sends arguments as a JSON string; an object
    is accepted too. Anything unusable is InvalidArguments (422), which the agent can act on."""
    if isinstance(arguments, str):
        try:  # the same strict decoder as the body: a hostile string is no safer one level down
            arguments = decode_json(arguments.encode("utf-8", "surrogatepass")) if arguments.strip() else {}
        except MalformedJson as exc:
            raise InvalidArguments(exc.message.replace("the request body", "arguments")) from None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise InvalidArguments("arguments must be a JSON object")
    title = arguments.get("video_title")
    if not isinstance(title, str) or not title.strip():
        raise InvalidArguments("video_title is required and must be a non-blank string", field="video_title")
    title = tidy_title(title)
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidArguments(
            f"video_title is longer than {MAX_TITLE_CHARS} characters", field="video_title"
        )
    return title


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
