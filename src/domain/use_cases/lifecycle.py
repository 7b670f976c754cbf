"""Lifecycle events of a conversation (Tavus `callback_url`): each is recorded; `system.shutdown` also
marks the conversation ended and tells its channel `session_ended`. Events after the end (transcript,
recording) are still recorded."""

from __future__ import annotations

from dataclasses import dataclass

from demo_relay.domain.models import ChannelEvent, EventName, LifecycleEvent, Recorded, channel_for
from demo_relay.domain.ports import Clock, ConversationDirectory, DemoCatalog, Notifier
from demo_relay.domain.use_cases.deliveries import Delivery, hinted_demo


@dataclass
class RecordLifecycle:
    catalog: DemoCatalog
    conversations: ConversationDirectory
    notifier: Notifier
    clock: Clock

    async def execute(self, event: LifecycleEvent, delivery: Delivery) -> Recorded:
        if event.event_type == "system.shutdown" and event.conversation_id:
            await self._end(event.conversation_id, event, delivery)
        return Recorded(event.event_type)

    async def _end(self, conversation_id: str, event: LifecycleEvent, delivery: Delivery) -> None:
        demo_id = await self.conversations.end(conversation_id) or await hinted_demo(self.catalog, delivery)
        if demo_id is None:
            return  # nobody is watching a conversation no demo knows
        reason = event.properties.get("shutdown_reason")
        await self.notifier.publish(
            ChannelEvent(
                channel=channel_for(demo_id),
                event=EventName.SESSION_ENDED,
                payload={
                    "conversation_id": conversation_id,
                    "reason": reason if isinstance(reason, str) else "shutdown",
                },
                id=delivery.event_id,
                sent_at=self.clock.now(),
            )
        )
