"""The webhook use case: a delivery from Tavus (or a relay that re-signs), checked in this order so that a
request is refused by its first fault and nothing after that fault happens:
size → authentication → JSON → shape (ignored) → dedupe claim → the tool or lifecycle handler → settle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from demo_relay.domain.errors import AuthenticationFailed
from demo_relay.domain.models import (
    Duplicate,
    Ignored,
    IgnoredEvent,
    InboundRequest,
    ToolCall,
    WebhookOutcome,
    is_play_video,
)
from demo_relay.domain.ports import Clock, ConversationDirectory, SignatureVerifier
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
    conversations: ConversationDirectory
    max_body_bytes: int = 65536

    async def execute(self, request: InboundRequest) -> WebhookOutcome:
        check_size(request.body, self.max_body_bytes)
        scheme = authenticate(self.verifiers, request, self.clock.now())
        document, event = read_event(request.body)
        if isinstance(event, IgnoredEvent):
            return Ignored(event.reason)
        if isinstance(event, ToolCall) and not is_play_video(event.name):
            return Ignored(f"tool {event.name[:64]!r} is not handled here")
        demo_hint = request.query.get("demo_id")
        if scheme.binds_demo and demo_hint is not None:
            await self._check_scope(demo_hint, event.conversation_id)
        signed_id = request.headers.get("webhook-id") if scheme.signs_message_id else None
        key = dedupe_key(event, signed_id, request.body)
        delivery = Delivery(key, demo_hint=demo_hint)
        if not await self.deliveries.claim(record_of(event, key, document)):
            return Duplicate(key)
        async with self.deliveries.settling(key) as settle:
            if isinstance(event, ToolCall):
                return settle(await self.play_video.execute(event, delivery))
            return settle(await self.lifecycle.execute(event, delivery))

    async def _check_scope(self, demo_id: str, conversation_id: str | None) -> None:
        """A per-demo callback token speaks for its demo only: an event of a conversation registered to
        another demo is refused like a wrong signature, before anything is claimed or sent."""
        if conversation_id is None:
            return
        registered = await self.conversations.demo_for(conversation_id)
        if registered is not None and registered != demo_id:
            raise AuthenticationFailed("the callback token is for another demo")
