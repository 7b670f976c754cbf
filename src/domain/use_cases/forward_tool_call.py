"""A tool call the page received as a Daily app-message and forwards with its session token: the same
play_video as a webhook, bound to the token's demo. The bridge takes tool calls only; the lifecycle of a
conversation is Tavus's to report, through the signed webhook."""

from __future__ import annotations

from dataclasses import dataclass, replace

from demo_relay.domain.errors import InvalidRequest, InvalidToken
from demo_relay.domain.models import (
    ChannelAccess,
    Duplicate,
    Ignored,
    IgnoredEvent,
    LifecycleEvent,
    WebhookOutcome,
    is_play_video,
)
from demo_relay.domain.ports import ConversationDirectory
from demo_relay.domain.use_cases.dedupe import dedupe_key
from demo_relay.domain.use_cases.deliveries import Deliveries, Delivery, record_of
from demo_relay.domain.use_cases.parse import check_size, read_event
from demo_relay.domain.use_cases.play_video import PlayVideo


@dataclass
class ForwardToolCall:
    deliveries: Deliveries
    play_video: PlayVideo
    conversations: ConversationDirectory
    max_body_bytes: int = 65536

    async def execute(self, body: bytes, access: ChannelAccess) -> WebhookOutcome:
        """`access`: the session token's. A call may only be of the token's own conversation."""
        # Only a conversation's own page forwards its tool calls: an owner's demo-wide session watches.
        if access.conversation_id is None:
            raise InvalidToken("a demo-wide session token forwards no tool calls")
        check_size(body, self.max_body_bytes)
        document, event = read_event(body)
        if isinstance(event, LifecycleEvent):
            raise InvalidRequest(f"the bridge takes tool calls only, not {event.event_type!r}")
        if isinstance(event, IgnoredEvent):
            return Ignored(event.reason)
        if not is_play_video(event.name):
            return Ignored(f"tool {event.name[:64]!r} is not handled here")
        # Its own key space: a page can never pre-claim the key of a signed delivery and turn it into a
        # duplicate (nor the other way round).
        if event.conversation_id not in (None, access.conversation_id):
            raise InvalidToken("the session token is for another conversation")
        if await self.conversations.is_ended(access.conversation_id):
            raise InvalidToken("the conversation has ended")
        event = replace(event, conversation_id=access.conversation_id)
        call_key = dedupe_key(event, None, body)
        key = f"bridge:{access.conversation_id}:{call_key}"
        delivery = Delivery(key, bound_demo_id=access.demo_id, event_key=call_key)
        if not await self.deliveries.claim(record_of(event, key, document)):
            return Duplicate(key)
        async with self.deliveries.settling(key) as settle:
            return settle(await self.play_video.execute(event, delivery))
