"""Lifecycle events of a conversation (Tavus `callback_url`): each is recorded; `system.shutdown` also
marks the conversation ended, frees its concurrency slot when we started it, and tells its channel
`session_ended`, once: a shutdown for a conversation that has ended already (our end endpoint got there
first, or Tavus repeats itself) sends nothing more. Events after the end (transcript, recording) are still
recorded."""

from __future__ import annotations

from dataclasses import dataclass

from demo_relay.domain.models import (
    ChannelEvent,
    Duplicate,
    EventName,
    LifecycleEvent,
    Recorded,
    channel_for,
)
from demo_relay.domain.ports import Clock, ConversationDirectory, ConversationSlots, DemoCatalog, Notifier
from demo_relay.domain.use_cases.dedupe import event_id
from demo_relay.domain.use_cases.deliveries import Delivery, hinted_demo

SHUTDOWN = "system.shutdown"


@dataclass
class RecordLifecycle:
    catalog: DemoCatalog
    conversations: ConversationDirectory
    notifier: Notifier
    clock: Clock
    slots: ConversationSlots | None = None  # None: this deployment starts no conversations itself

    async def execute(self, event: LifecycleEvent, delivery: Delivery) -> Recorded | Duplicate:
        ended_before = (
            event.event_type == SHUTDOWN
            and event.conversation_id is not None
            and not await self._end(event.conversation_id, event, delivery)
        )
        if ended_before:
            return Duplicate(delivery.key)
        return Recorded(event.event_type)

    async def _end(self, conversation_id: str, event: LifecycleEvent, delivery: Delivery) -> bool:
        """False when the conversation had ended already (nothing is sent)."""
        demo_id, newly = await self.conversations.end_once(conversation_id)
        if self.slots is not None:
            await self.slots.finish(conversation_id)
        if demo_id is not None and not newly:
            return False
        demo_id = demo_id or await hinted_demo(self.catalog, delivery)
        if demo_id is None:
            return True  # nobody is watching a conversation no demo knows
        reason = event.properties.get("shutdown_reason")
        await self.notifier.publish(
            ChannelEvent(
                channel=channel_for(demo_id),
                event=EventName.SESSION_ENDED,
                payload={
                    "conversation_id": conversation_id,
                    "reason": reason if isinstance(reason, str) else "shutdown",
                },
                # One id per conversation's end, however it ended: a page that hears the end twice (our
                # end endpoint, then a repeat through another path) shows it once.
                id=event_id(f"ended:{conversation_id}"),
                sent_at=self.clock.now(),
            )
        )
        return True
