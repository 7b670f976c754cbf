"""The webhook use case: a delivery from Tavus (or a relay that re-signs), checked in this order so that a
request is refused by its first fault and nothing after that fault happens:
size → authentication → JSON → shape (ignored) → dedupe claim → the tool or lifecycle handler → settle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from demo_relay.domain.models import (
    PLAY_VIDEO_TOOL,
    Duplicate,
    Ignored,
    IgnoredEvent,
    InboundRequest,
    ToolCall,
    WebhookOutcome,
)
from demo_relay.domain.ports import Clock, SignatureVerifier
from demo_relay.domain.use_cases.authenticate import authenticate
from demo_relay.domain.use_cases.dedupe import dedupe_key
from demo_relay.domain.use_cases.deliveries import Deliveries, Delivery, record_of
from demo_relay.domain.use_cases.lifecycle import RecordLifecycle
from demo_relay.domain.use_cases.parse import check_size, read_event
from demo_relay.domain.use_cases.play_video import PlayVideo


@dataclass
class HandleWebhook:
    verifiers: Sequence[SignatureVerifier]
    deliveries: Deliveries
    play_video: PlayVideo
    lifecycle: RecordLifecycle
    clock: Clock
    max_body_bytes: int = 65536

    async def execute(self, request: InboundRequest) -> WebhookOutcome:
        check_size(request.body, self.max_body_bytes)
        scheme = authenticate(self.verifiers, request, self.clock.now())
        document, event = read_event(request.body)
        if isinstance(event, IgnoredEvent):
            return Ignored(event.reason)
        if isinstance(event, ToolCall) and event.name != PLAY_VIDEO_TOOL:
            return Ignored(f"tool {event.name[:64]!r} is not handled here")
        signed_id = request.headers.get("webhook-id") if scheme.signs_message_id else None
        key = dedupe_key(event, signed_id, request.body)
        delivery = Delivery(key, demo_hint=request.query.get("demo_id"))
        if not await self.deliveries.claim(record_of(event, key, document)):
            return Duplicate(key)
        async with self.deliveries.settling(key) as settle:
            if isinstance(event, ToolCall):
                return settle(await self.play_video.execute(event, delivery))
            return settle(await self.lifecycle.execute(event, delivery))
