"""The in-process WebSocket hub (HUB_BACKEND=memory) and the Notifier that publishes into it.

Our own hub rather than Litestar's ChannelsPlugin, whose open issues (a failed publish stopping its
worker, memory growth with many short-lived channels) would bite here: publishing never awaits, so one slow
browser cannot delay the others or the webhook that triggered the event; each subscriber has a bounded
queue and is dropped (close 1013) when it overflows; a channel's entry lives only while it has subscribers
or a current video, so many short-lived demo channels do not accumulate.

All methods are synchronous and must be called from the one event loop that serves the WebSockets (the
app's loop): asyncio queues and events are not thread-safe."""

from __future__ import annotations

import asyncio
import heapq
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import msgspec

from demo_relay.domain.models import UNKNOWN_DURATION_CURRENT_S, ChannelEvent, EventName
from demo_relay.domain.ports import Clock

CLOSE_GOING_AWAY = 1001  # the hub itself is shutting down
CLOSE_TRY_AGAIN_LATER = 1013  # the subscriber's queue overflowed: it is not reading fast enough
DEFAULT_QUEUE_SIZE = 256


def _enc_hook(value: Any) -> Any:
    # Payloads are Mappings by contract, not necessarily dicts (e.g. MappingProxyType); msgspec only knows
    # dict natively.
    if isinstance(value, Mapping):
        return dict(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__} in a channel frame")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


def encode_frame(event: ChannelEvent) -> str:
    """The one JSON text frame every subscriber of the event's channel receives (a fixed wire format)."""
    sent_at = event.sent_at if event.sent_at.tzinfo else event.sent_at.replace(tzinfo=UTC)
    frame = {
        "channel": event.channel,
        "event": str(event.event),
        "payload": event.payload,
        "id": event.id,
        # msgspec writes aware datetimes as RFC 3339 (UTC as "Z").
        "sent_at": sent_at.astimezone(UTC),
    }
    return _encoder.encode(frame).decode()


class FrameQueue:
    """A bounded FIFO of text frames with one consumer: what asyncio.Queue does for a subscriber, in a
    fraction of its memory (asyncio.Queue holds four deques and an Event, about 1.9 KB, for every idle
    socket). `put_nowait` raises asyncio.QueueFull like asyncio.Queue's."""

    __slots__ = ("_frames", "_maxsize", "_waiter")

    def __init__(self, maxsize: int) -> None:
        self._frames: deque[str] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, frame: str) -> None:
        if len(self._frames) >= self._maxsize:
            raise asyncio.QueueFull
        self._frames.append(frame)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> str:
        await self.wait()
        return self._frames.popleft()

    async def wait(self) -> None:
        """Returns once a frame is queued (without taking it)."""
        while not self._frames:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def get_nowait(self) -> str:
        if not self._frames:
            raise asyncio.QueueEmpty
        return self._frames.popleft()

    def empty(self) -> bool:
        return not self._frames

    def qsize(self) -> int:
        return len(self._frames)


class FrameWriter(Protocol):
    """A connection the hub may write to directly, without a task per connection: the frame is put on the
    wire in the call (entrypoints/http/ws_direct.py writes to uvicorn's transport)."""

    def encode(self, frame: str) -> bytes:
        """The frame as it goes on the wire (the same for every writer: computed once per event)."""
        ...

    def write(self, wire: bytes) -> bool:
        """False when the client is too far behind (the hub then drops it, 1013)."""
        ...


@dataclass(eq=False)  # identity equality/hash: subscriptions are members of a set
class Subscription:
    """One connection's membership of a channel. The connection drains `queue` (ready-to-send text
    frames) and stops when `closed` is set; `close_code` then says how to close the WebSocket."""

    channel: str
    queue: FrameQueue
    # The conversation this subscriber follows: it receives that conversation's events and those that name
    # none. None: every event of the channel (a demo's owner watching all its conversations).
    conversation_id: str | None = None
    close_code: int | None = None
    close_reason: str = ""
    _closed: bool = field(default=False, repr=False)
    _closed_event: asyncio.Event | None = field(default=None, repr=False)  # made only for wait_closed
    # With a shared hub's log: events up to this sequence number are the replay's business (sent ahead of
    # the queue, or from before the subscriber joined): a relay lagging behind the log never queues them.
    min_seq: int = 0
    # Frames sent ahead of the queue (a replay) and the ids among them that live frames may repeat.
    _ahead: list[str] = field(default_factory=list, repr=False)
    _skip: set[str] = field(default_factory=set, repr=False)
    # Called once when the hub drops the subscription (the connection's way to stop waiting on its client).
    on_close: Callable[[], None] | None = field(default=None, repr=False)
    # Set once the connection takes frames directly (`go_direct`): the queue is no longer used.
    writer: FrameWriter | None = field(default=None, repr=False)

    def go_direct(self, writer: FrameWriter) -> bool:
        """From now on the hub writes this subscriber's frames straight to `writer`: what is waiting (the
        replay, then the queue without the replay's repeats) is written first, in the same step, so nothing
        published meanwhile can overtake it. False when the writer is already too far behind."""
        while True:
            frame = self._take_nowait()
            if frame is None:
                break
            if not writer.write(writer.encode(frame)):
                return False
        self.writer = writer
        return True

    def _take_nowait(self) -> str | None:
        if self._ahead:
            return self._ahead.pop(0)
        while not self.queue.empty():
            frame = self.queue.get_nowait()
            if not self._skip:
                return frame
            frame_id = _frame_id(frame)
            if frame_id in self._skip:
                self._skip.discard(frame_id)
                continue
            self._skip.clear()
            return frame
        return None

    def prepend(self, frames: list[str], ids: set[str], up_to_seq: int = 0) -> None:
        """Frames the connection sends before anything queued (what the subscriber missed, from a log),
        their ids (a queued live frame with one of these ids was in the replay and is skipped) and the
        replay's last sequence number (no live event up to it is queued from now on: it was in the replay,
        or is not this subscriber's, or is older than the current video it got)."""
        self._ahead = list(frames)
        self._skip = {i for i in ids if i}
        self.min_seq = max(self.min_seq, up_to_seq)

    def take_replay(self) -> list[str]:
        """The frames `prepend` put ahead of the queue, handed over once (the connection sends them)."""
        frames, self._ahead = self._ahead, []
        return frames

    async def next_frame(self) -> str:
        """The next frame to send: the replay first, then the queue without the replay's repeats."""
        while True:
            frame = self._take_nowait()
            if frame is not None:
                return frame
            await self.queue.wait()

    @property
    def closed(self) -> bool:
        return self._closed

    async def wait_closed(self) -> None:
        """Returns once the hub has dropped this subscription (overflow or hub shutdown)."""
        if self._closed:
            return
        if self._closed_event is None:
            self._closed_event = asyncio.Event()
        await self._closed_event.wait()

    def _close(self, code: int, reason: str) -> None:
        if not self._closed:
            self.close_code = code
            self.close_reason = reason
            self._closed = True
            if self._closed_event is not None:
                self._closed_event.set()
            if self.on_close is not None:
                self.on_close()


class _FrameId(msgspec.Struct):
    id: str = ""


_frame_ids = msgspec.json.Decoder(_FrameId)


def _frame_id(frame: str) -> str:
    try:
        return _frame_ids.decode(frame).id
    except msgspec.DecodeError:
        return ""


@dataclass(frozen=True, slots=True)
class _Current:
    frame: str
    until: datetime
    order: int  # publication order, to tell the latest of several conversations' videos


@dataclass
class _Channel:
    subscribers: dict[Subscription, None] = field(default_factory=dict)  # an insertion-ordered set
    # The latest play_video of each conversation (None: of no conversation), while it is current.
    currents: dict[str | None, _Current] = field(default_factory=dict)

    def drop_expired(self, now: datetime) -> None:
        for key in [k for k, current in self.currents.items() if current.until <= now]:
            del self.currents[key]

    def current_for(self, conversation_id: str | None) -> str | None:
        """What a late joiner following `conversation_id` sees: the latest current video it may see."""
        visible = [c for k, c in self.currents.items() if _visible(conversation_id, k)]
        return max(visible, key=lambda c: c.order).frame if visible else None

    @property
    def idle(self) -> bool:
        return not self.subscribers and not self.currents


def _visible(follows: str | None, event_conversation: str | None) -> bool:
    """Whether a subscriber following `follows` receives an event of `event_conversation`: its own
    conversation's events and those of none; a demo-wide subscriber (None) receives all."""
    return follows is None or event_conversation is None or follows == event_conversation


def _conversation_of(event: ChannelEvent) -> str | None:
    value = event.payload.get("conversation_id")
    return value if isinstance(value, str) and value else None


class WebSocketHub:
    """Channel name → subscribers, plus each channel's current video for late joiners."""

    def __init__(
        self,
        clock: Clock,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        default_current_s: float = UNKNOWN_DURATION_CURRENT_S,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._clock = clock
        self._queue_size = queue_size
        self._default_current_s = default_current_s
        self._channels: dict[str, _Channel] = {}
        # (current_until, channel) of every stored current video: lets `_sweep` forget expired videos of
        # channels nobody touches again, without scanning all channels.
        self._expiries: list[tuple[datetime, str]] = []
        self._published = 0
        self._closed = False

    def subscribe(
        self,
        channel: str,
        conversation_id: str | None = None,
        *,
        with_current: bool = True,
        min_seq: int = 0,
    ) -> Subscription:
        """Joins `channel`, following one conversation (None: all of them). The current play_video it may
        see, if any, is already queued: taking it and joining happen in one step, so an event published
        meanwhile is neither lost nor sent twice. `with_current=False`: the caller replays what the
        subscriber missed itself (from the Postgres event log, which every instance shares)."""
        subscription = Subscription(channel, FrameQueue(self._queue_size), conversation_id, min_seq=min_seq)
        if self._closed:
            subscription._close(CLOSE_GOING_AWAY, "server shutting down")
            return subscription
        now = self._sweep()
        entry = self._channels.setdefault(channel, _Channel())
        entry.drop_expired(now)
        current = entry.current_for(conversation_id) if with_current else None
        if current is not None:
            subscription.queue.put_nowait(current)
        entry.subscribers[subscription] = None
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Leaves the channel (idempotent); frees the channel's entry when nothing is left in it."""
        entry = self._channels.get(subscription.channel)
        if entry is None:
            return
        entry.subscribers.pop(subscription, None)
        entry.drop_expired(self._clock.now())
        if entry.idle:
            del self._channels[subscription.channel]

    def publish(self, event: ChannelEvent) -> int:
        """Queues the event for every subscriber of its channel that may see it (its conversation's
        subscribers and the channel-wide ones); returns how many took it. Never awaits: a subscriber whose
        queue is full is dropped (close 1013) instead of slowing anyone down."""
        window = self._default_current_s if event.current_for_s is None else event.current_for_s
        sent_at = event.sent_at if event.sent_at.tzinfo else event.sent_at.replace(tzinfo=UTC)
        return self.deliver(
            event.channel,
            str(event.event),
            _conversation_of(event),
            encode_frame(event),  # once per event, shared by all subscribers
            sent_at + timedelta(seconds=window) if event.event == EventName.PLAY_VIDEO else None,
        )

    def deliver(
        self,
        channel: str,
        event: str,
        conversation_id: str | None,
        frame: str,
        current_until: datetime | None = None,
        seq: int | None = None,
    ) -> int:
        """`publish` of an event already encoded (the Postgres relay hands over the stored frame): the
        frame to the channel's subscribers that may see it; a play_video stays current until
        `current_until`, a session_ended clears its conversation's current video."""
        if self._closed:
            return 0
        now = self._sweep()
        entry = self._channels.get(channel)
        if event == EventName.PLAY_VIDEO:
            entry = entry or self._channels.setdefault(channel, _Channel())
            self._remember(channel, entry, frame, now, conversation_id, current_until)
        elif event == EventName.SESSION_ENDED and entry is not None:
            entry.currents.pop(conversation_id, None)
        if entry is None:
            return 0
        delivered = 0
        wire: bytes | None = None  # the frame as written on the wire: encoded once for every direct writer
        for subscription in list(entry.subscribers):
            if not _visible(subscription.conversation_id, conversation_id):
                continue
            if seq is not None and seq <= subscription.min_seq:
                continue  # the replay's (or before this subscriber joined)
            writer = subscription.writer
            if writer is not None:
                if wire is None:
                    wire = writer.encode(frame)
                taken = writer.write(wire)
            else:
                try:
                    subscription.queue.put_nowait(frame)
                    taken = True
                except asyncio.QueueFull:
                    taken = False
            if taken:
                delivered += 1
            else:
                del entry.subscribers[subscription]
                subscription._close(CLOSE_TRY_AGAIN_LATER, "subscriber too slow")
        if entry.idle:
            del self._channels[channel]
        return delivered

    def current(self, channel: str, conversation_id: str | None = None) -> str | None:
        """The latest play_video frame a late joiner following `conversation_id` would get, if it is still
        current (sent less than its `current_for_s` ago, no session_ended of its conversation since)."""
        entry = self._channels.get(channel)
        if entry is None:
            return None
        entry.drop_expired(self._clock.now())
        return entry.current_for(conversation_id)

    @property
    def closed(self) -> bool:
        """True once the hub shut down (the process is draining)."""
        return self._closed

    def channels_with_subscribers(self) -> list[str]:
        return [name for name, entry in self._channels.items() if entry.subscribers]

    def subscriber_count(self, channel: str) -> int:
        entry = self._channels.get(channel)
        return len(entry.subscribers) if entry else 0

    def connection_count(self) -> int:
        """Open subscriptions across all channels (the /metrics gauge)."""
        return sum(len(entry.subscribers) for entry in self._channels.values())

    def channel_count(self) -> int:
        """Channels with subscribers or a current video (the hub's memory footprint, for tests/metrics)."""
        return len(self._channels)

    def close(self) -> None:
        """Drops every subscriber (close 1001) and forgets all channels; later publishes are no-ops."""
        self._closed = True
        for entry in self._channels.values():
            for subscription in entry.subscribers:
                subscription._close(CLOSE_GOING_AWAY, "server shutting down")
        self._channels.clear()
        self._expiries.clear()

    def _remember(
        self,
        channel: str,
        entry: _Channel,
        frame: str,
        now: datetime,
        conversation_id: str | None,
        until: datetime | None,
    ) -> None:
        if until is None or until <= now:  # already over (or a zero window): nothing for late joiners
            entry.currents.pop(conversation_id, None)
            return
        self._published += 1
        entry.currents[conversation_id] = _Current(frame, until, self._published)
        heapq.heappush(self._expiries, (until, channel))

    def _sweep(self) -> datetime:
        """Forgets videos whose time is up and the channels left empty by that. Amortised O(log n)."""
        now = self._clock.now()
        while self._expiries and self._expiries[0][0] <= now:
            _, channel = heapq.heappop(self._expiries)
            entry = self._channels.get(channel)
            if entry is None:
                continue
            entry.drop_expired(now)  # a newer video of the channel keeps its own, later expiry
            if entry.idle:
                del self._channels[channel]
        return now


class HubNotifier:
    """The Notifier port over the hub. The hub keeps a play_video for late joiners, so the event counts
    as delivered even when nobody is connected yet."""

    name = "websocket"

    def __init__(self, hub: WebSocketHub) -> None:
        self._hub = hub

    async def publish(self, event: ChannelEvent) -> tuple[str, ...]:
        self._hub.publish(event)
        return (self.name,)
