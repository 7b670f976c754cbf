"""The idempotency key of a delivery, most specific first: the relay's `webhook-id`, else the ids Tavus
puts in a tool call (`tool_call_id`, `inference_id`, `conversation_id:seq`), else a lifecycle event's
`conversation_id:event_type:timestamp`, else the SHA-256 of the body."""

from __future__ import annotations

import hashlib
import uuid

from demo_relay.domain.models import LifecycleEvent, ToolCall

_EVENT_ID_NAMESPACE = uuid.UUID("5b0f6f7e-3c56-4d1e-9a57-6f2d7f1f3a10")


def dedupe_key(event: ToolCall | LifecycleEvent, webhook_id: str | None, body: bytes) -> str:
    if webhook_id and webhook_id.strip():
        return webhook_id.strip()
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
