"""The idempotency key of a webhook delivery (DESIGN.md §4), most specific first."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping

from demo_relay.domain.models import LifecycleEvent, ToolCall

_EVENT_ID_NAMESPACE = uuid.UUID("5b0f6f7e-3c56-4d1e-9a57-6f2d7f1f3a10")


def dedupe_key(event: ToolCall | LifecycleEvent, headers: Mapping[str, str], body: bytes) -> str:
    webhook_id = headers.get("webhook-id", "").strip()
    if webhook_id:
        return webhook_id
    if isinstance(event, ToolCall):
        if event.tool_call_id:
            return event.tool_call_id
        if event.inference_id:
            return event.inference_id
        if event.conversation_id and event.seq is not None:
            return f"{event.conversation_id}:{event.seq}"
    elif event.conversation_id and event.timestamp:
        return f"{event.conversation_id}:{event.event_type}:{event.timestamp}"
    return hashlib.sha256(body).hexdigest()


def event_id(key: str) -> str:
    """A channel event id derived from the dedupe key: a retried delivery carries the same id."""
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, key))
