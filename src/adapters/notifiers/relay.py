"""What every instance does with a shared hub (HUB_BACKEND=postgres or redis): it hears each event once
from the backend's broadcast (NOTIFY, or Redis pub/sub) and hands it to its local WebSocketHub, in order and
once. Per channel the relay knows the last sequence number it delivered: a repeat is dropped, a gap is read
from the backend's log first. A lost connection is re-established with backoff; then, before anything new,
the events of the gap are read from the log for every channel with subscribers here."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from demo_relay.adapters.notifiers.websocket_hub import WebSocketHub
from demo_relay.adapters.reconnecting import reconnecting

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event of a channel's log: its sequence number and the frame subscribers receive."""

    seq: int
    event: str
    conversation_id: str | None
    frame: str
    current_until: datetime | None
    event_id: str


class EventLog(Protocol):
    """A channel event log every instance shares."""

    async def after(self, channel: str, conversation_id: str | None, seq: int) -> list[StoredEvent]:
        """The events after `seq` a subscriber following `conversation_id` (None: all) may see, in order."""
        ...

    async def gap(self, channel: str, after_seq: int, up_to_seq: int) -> list[StoredEvent]: ...

    async def head(self, channel: str) -> int:
        """The channel's last sequence number (0: no event yet)."""
        ...

    async def catch_up(
        self, channel: str, conversation_id: str | None, since: str | None, now: datetime
    ) -> list[StoredEvent]:
        """What a subscriber gets before the live events: with a known `since` (a frame id), exactly the
        events after it; otherwise the current video, as a late joiner."""
        ...

    async def purge(self, before: datetime) -> int: ...


def broadcast_note(channel: str, seq: int, event: str, conversation_id: str | None, until: datetime | None,
                   frame: str | None) -> str:  # fmt: skip
    """The broadcast message of one stored event (the frame left out when it is too large to carry)."""
    note: dict[str, Any] = {
        "c": channel,
        "s": seq,
        "e": event,
        "v": conversation_id,
        "u": until.isoformat() if until else None,
    }
    if frame is not None:
        note["f"] = frame
    return json.dumps(note)


def note_around_seq(channel: str, event: str, conversation_id: str | None, until: datetime | None,
                    frame: str | None) -> tuple[str, str]:  # fmt: skip
    """The broadcast note of an event whose sequence number the database assigns: the text before it and
    the text after it (`before + str(seq) + after == broadcast_note(...)`)."""
    marker = -7_777_777_777_777_777_777  # a bigint no event has; its text is found once in the note
    note = broadcast_note(channel, marker, event, conversation_id, until, frame)
    before, _, after = note.partition(f'"s": {marker}')
    return before + '"s": ', after


class HubRelay:
    """The backend-independent part: the inbox, ordering, gaps, catch-up. A backend implements
    `listen_once` (connect, subscribe, run `async with self.listening():` until the connection is lost,
    passing each broadcast message to `notified`)."""

    def __init__(self, log: EventLog, hub: WebSocketHub, *, max_backoff_s: float = 5.0) -> None:
        self._log = log
        self._hub = hub
        self._max_backoff_s = max_backoff_s
        self._last: dict[str, int] = {}  # channel → last sequence delivered here
        # channel → its head when a subscriber here joined, while nothing was delivered on it since: where a
        # catch-up after a lost connection starts for a channel that had no event yet.
        self._floor: dict[str, int] = {}
        self._inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def listen_once(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        """Until cancelled: connect, subscribe, deliver; on a lost connection, again with backoff."""
        await reconnecting(self.listen_once, on_lost=self._lost, max_backoff_s=self._max_backoff_s)

    def _lost(self, error: Exception | None) -> None:
        if error is not None:
            log.warning("hub relay: connection lost (%s); reconnecting", type(error).__name__)
        self.connected.clear()
        self.reconnects += 1

    @asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """While subscribed: anything stored while we were away comes from the log first (the catch-up
        marker goes into the inbox before any broadcast heard from now on), then the broadcasts."""
        self._inbox.put_nowait(None)
        consumer = asyncio.create_task(self._consume(), name="hub-relay-consume")
        self.connected.set()
        try:
            yield
        finally:
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)

    def track(self, channel: str, head: int) -> None:
        """A subscriber joined `channel` here when its log stood at `head`."""
        if channel not in self._last:
            self._floor[channel] = max(head, self._floor.get(channel, 0))

    def notified(self, payload: str) -> None:
        try:
            note = json.loads(payload)
        except ValueError:
            log.warning("hub relay: a broadcast that is not JSON was ignored")
            return
        if isinstance(note, dict):
            self._inbox.put_nowait(note)

    async def _consume(self) -> None:
        while True:
            note = await self._inbox.get()
            try:
                if note is None:
                    await self._catch_up()
                else:
                    await self._handle(note)
            except asyncio.CancelledError:
                raise
            except Exception:  # the backend away mid-way: the next reconnect's catch-up fills the gap
                log.warning("hub relay: could not deliver an event", exc_info=True)

    async def _catch_up(self) -> None:
        """After (re)connecting: the events this instance's subscribers missed. Channels nobody here
        subscribes to are forgotten (a new subscriber there is a late joiner, served from the log)."""
        wanted = set(self._hub.channels_with_subscribers())
        for known in (self._last, self._floor):
            for channel in [c for c in known if c not in wanted]:
                del known[channel]
        for channel in wanted:
            start = self._last.get(channel, self._floor.get(channel))
            if start is None:
                continue
            for stored in await self._log.after(channel, None, start):
                self._deliver(channel, stored)

    async def _handle(self, note: dict[str, Any]) -> None:
        channel, seq = note.get("c"), note.get("s")
        if not isinstance(channel, str) or not isinstance(seq, int):
            return
        last = self._last.get(channel)
        if last is not None and seq <= last:
            return  # delivered already (by a catch-up)
        known = last if last is not None else self._floor.get(channel)
        if known is not None and seq > known + 1:
            for stored in await self._log.gap(channel, known, seq - 1):  # a gap: the log first
                self._deliver(channel, stored)
        frame = note.get("f")
        if isinstance(frame, str):
            until = note.get("u")
            conversation = note.get("v")
            self._deliver(
                channel,
                StoredEvent(
                    seq,
                    str(note.get("e")),
                    conversation if isinstance(conversation, str) else None,
                    frame,
                    datetime.fromisoformat(until) if isinstance(until, str) else None,
                    "",
                ),
            )
        else:  # too large to broadcast: read from the log
            for stored in await self._log.gap(channel, seq - 1, seq):
                self._deliver(channel, stored)

    def _deliver(self, channel: str, stored: StoredEvent) -> None:
        if stored.seq <= self._last.get(channel, 0):
            return
        self._last[channel] = stored.seq
        self._floor.pop(channel, None)
        self._hub.deliver(
            channel, stored.event, stored.conversation_id, stored.frame, stored.current_until, stored.seq
        )

    def seen(self, channel: str) -> Sequence[int]:
        """The last sequence delivered on `channel` (tests)."""
        return [self._last[channel]] if channel in self._last else []
