"""Lifecycle events of a conversation (Tavus `callback_url`): each is recorded; `system.shutdown` also
marks the conversation ended, frees its concurrency slot when we started it, and tells its channel
`session_ended`, once: a shutdown for a conversation that has ended already (our end endpoint got there
first, or Tavus repeats itself) sends nothing more. Events after the end (transcript, recording) are still
recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

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


class ConversationEnds:
    """One end of a conversation at a time in this process. Our end endpoint asks Tavus to end the call,
    and Tavus's `system.shutdown` for it may arrive while the endpoint is still telling the page: without
    this both would see "not ended yet" and both would send `session_ended` (same id, so the page shows it
    once, but the shutdown would not be the duplicate it is). Across instances the same race is left to
    that id."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def one_at_a_time(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users <= 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)


@dataclass
class RecordLifecycle:
    catalog: DemoCatalog
    conversations: ConversationDirectory
    notifier: Notifier
    clock: Clock
    slots: ConversationSlots | None = None  # None: this deployment starts no conversations itself
    ends: ConversationEnds = field(default_factory=ConversationEnds)  # shared with EndConversation

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
        async with self.ends.one_at_a_time(conversation_id):
            return await self._end_now(conversation_id, event, delivery)

    async def _end_now(self, conversation_id: str, event: LifecycleEvent, delivery: Delivery) -> bool:
        """False when the conversation had ended already (nothing is sent). The page is told before the
        end is recorded: if telling it fails, the delivery fails and Tavus's retry tells it (recorded
        first, the retry would find the conversation ended and send nothing, ever)."""
        if await self.conversations.is_ended(conversation_id):
            await self._free(conversation_id)
            return False
        demo_id = await self.conversations.demo_for(conversation_id) or await hinted_demo(
            self.catalog, delivery
        )
        if demo_id is not None:
            reason = event.properties.get("shutdown_reason")
            await self.notifier.publish(
                ended_event(
                    demo_id, conversation_id, reason if isinstance(reason, str) else "shutdown", self.clock
                )
            )
        await self.conversations.end_once(conversation_id)
        await self._free(conversation_id)
        return True

    async def _free(self, conversation_id: str) -> None:
        if self.slots is not None:
            await self.slots.finish(conversation_id)


def ended_event(demo_id: str, conversation_id: str, reason: str, clock: Clock) -> ChannelEvent:
    """`session_ended` of a conversation: one id per conversation's end, however it ended (our end
    endpoint, Tavus's shutdown, the reaper), so a page that hears it twice shows it once."""
    return ChannelEvent(
        channel=channel_for(demo_id),
        event=EventName.SESSION_ENDED,
        payload={"conversation_id": conversation_id, "reason": reason},
        id=event_id(f"ended:{conversation_id}"),
        sent_at=clock.now(),
    )
