"""WebSocketHub and HubNotifier, with a fake clock and no sockets: an event reaches every
subscriber of its channel and no other, as the exact wire frame, encoded once; a late joiner finds the
channel's current play_video queued while it is current (its `current_for_s`, 10 min when unknown) and
not after, nor after a session_ended; one subscriber that stops reading is dropped with 1013 without
affecting the others; channel entries are freed when nothing is left in them, so short-lived channels
do not leak; close() drops everyone with 1001."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest

from demo_relay.adapters.notifiers.websocket_hub import (
    HubNotifier,
    Subscription,
    WebSocketHub,
    encode_frame,
)
from demo_relay.domain.models import ChannelEvent, EventName
from tests.support.fakes import FakeClock

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
A = "demo-aaaaaaaa-0000-4000-8000-000000000001"
B = "demo-bbbbbbbb-0000-4000-8000-000000000002"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def hub(clock: FakeClock) -> WebSocketHub:
    return WebSocketHub(clock)


def payload(channel: str, title: str = "Intro") -> dict[str, Any]:
    return {
        "url": f"https://cdn.example/{title}.mp4",
        "title": title,
        "video_id": "v-1",
        "demo_id": channel.removeprefix("demo-"),
        "conversation_id": "c123",
        "tool_call_id": "call-1",
        "expires_at": "2025-01-02T04:04:05Z",
    }


def play(
    channel: str, clock: FakeClock, event_id: str = "e-1", current_for_s: float | None = 15.0
) -> ChannelEvent:
    return ChannelEvent(
        channel=channel,
        event=EventName.PLAY_VIDEO,
        payload=payload(channel),
        id=event_id,
        sent_at=clock.now(),
        current_for_s=current_for_s,
    )


def ended(channel: str, clock: FakeClock, event_id: str = "end-1") -> ChannelEvent:
    return ChannelEvent(
        channel=channel,
        event=EventName.SESSION_ENDED,
        payload={"conversation_id": "c123", "reason": "shutdown"},
        id=event_id,
        sent_at=clock.now(),
    )


def drain(subscription: Subscription) -> list[str]:
    frames = []
    while not subscription.queue.empty():
        frames.append(subscription.queue.get_nowait())
    return frames


def test_frame_has_the_exact_wire_shape(clock: FakeClock) -> None:
    frame = encode_frame(play(A, clock))

    compact_payload = json.dumps(payload(A), separators=(",", ":"))
    assert frame == (
        f'{{"channel":"{A}","event":"play_video","payload":{compact_payload},'
        '"id":"e-1","sent_at":"2025-01-02T03:04:05Z"}'
    )


def test_frame_accepts_any_mapping_and_writes_utc(clock: FakeClock) -> None:
    offset = datetime(2025, 1, 2, 7, 4, 5, tzinfo=timezone(timedelta(hours=2)))  # 05:04:05 UTC
    event = ChannelEvent(A, EventName.SESSION_ENDED, MappingProxyType({"reason": "x"}), "e", offset)

    decoded = json.loads(encode_frame(event))

    assert decoded["payload"] == {"reason": "x"}
    assert decoded["sent_at"] == "2025-01-02T05:04:05Z"


def test_publish_fans_out_to_every_subscriber_of_the_channel_only(
    hub: WebSocketHub, clock: FakeClock
) -> None:
    first, second, elsewhere = hub.subscribe(A), hub.subscribe(A), hub.subscribe(B)

    delivered = hub.publish(play(A, clock))

    assert delivered == 2
    frames_first, frames_second = drain(first), drain(second)
    assert frames_first == [encode_frame(play(A, clock))]
    assert frames_first[0] is frames_second[0]  # encoded once, shared by all subscribers
    assert drain(elsewhere) == []
    assert hub.subscriber_count(A) == 2
    assert hub.subscriber_count(B) == 1


def test_late_joiner_gets_the_current_video_first(hub: WebSocketHub, clock: FakeClock) -> None:
    hub.publish(play(A, clock))
    clock.advance(14.9)

    late = hub.subscribe(A)
    hub.publish(ended(A, clock))

    assert [json.loads(f)["event"] for f in drain(late)] == ["play_video", "session_ended"]


def test_video_is_no_longer_current_after_its_window(hub: WebSocketHub, clock: FakeClock) -> None:
    hub.publish(play(A, clock, current_for_s=15.0))
    assert hub.current(A) is not None
    clock.advance(15.0)  # "less than current_for_s ago" is over

    assert hub.current(A) is None
    assert drain(hub.subscribe(A)) == []


def test_video_of_unknown_length_stays_current_ten_minutes(hub: WebSocketHub, clock: FakeClock) -> None:
    hub.publish(play(A, clock, current_for_s=None))
    clock.advance(599)
    assert hub.current(A) is not None
    clock.advance(1)
    assert hub.current(A) is None


def test_window_counts_from_when_the_event_was_sent(hub: WebSocketHub, clock: FakeClock) -> None:
    event = play(A, clock, current_for_s=10.0)
    clock.advance(10.5)  # published late (e.g. a slow storage call): already over

    hub.publish(event)

    assert hub.current(A) is None
    assert hub.channel_count() == 0


def test_newer_video_replaces_the_current_one(hub: WebSocketHub, clock: FakeClock) -> None:
    hub.publish(play(A, clock, "e-1", current_for_s=5.0))
    clock.advance(1)
    hub.publish(play(A, clock, "e-2", current_for_s=30.0))
    clock.advance(10)  # the first one's expiry passes; the second stays current

    current = hub.current(A)
    assert current is not None
    assert json.loads(current)["id"] == "e-2"
    assert [json.loads(f)["id"] for f in drain(hub.subscribe(A))] == ["e-2"]


def test_session_ended_clears_the_current_video(hub: WebSocketHub, clock: FakeClock) -> None:
    watcher = hub.subscribe(A)
    hub.publish(play(A, clock))

    assert hub.publish(ended(A, clock)) == 1

    assert hub.current(A) is None
    assert [json.loads(f)["event"] for f in drain(watcher)] == ["play_video", "session_ended"]
    assert drain(hub.subscribe(A)) == []  # a reload after the end shows no video


def test_session_ended_is_not_replayed_to_late_joiners(hub: WebSocketHub, clock: FakeClock) -> None:
    hub.publish(ended(A, clock))

    assert drain(hub.subscribe(A)) == []


def test_overflowing_subscriber_is_dropped_with_1013_and_others_are_unaffected(clock: FakeClock) -> None:
    hub = WebSocketHub(clock, queue_size=3)
    slow, fast, other_channel = hub.subscribe(A), hub.subscribe(A), hub.subscribe(B)
    received: list[str] = []

    counts = []
    for n in range(5):
        counts.append(hub.publish(play(A, clock, f"e-{n}")))
        received += drain(fast)  # the fast subscriber keeps up; the slow one never reads

    assert counts == [2, 2, 2, 1, 1]
    assert [json.loads(f)["id"] for f in received] == ["e-0", "e-1", "e-2", "e-3", "e-4"]
    assert slow.closed
    assert slow.close_code == 1013
    assert slow.queue.qsize() == 3  # nothing more was queued for it once dropped
    assert not fast.closed
    assert fast.close_code is None
    assert hub.subscriber_count(A) == 1
    assert not other_channel.closed


def test_dropped_subscriber_can_wait_for_its_close() -> None:
    async def scenario() -> int | None:
        clock = FakeClock(T0)
        hub = WebSocketHub(clock, queue_size=1)
        subscription = hub.subscribe(A)
        waiter = asyncio.create_task(subscription.wait_closed())
        hub.publish(play(A, clock, "e-1"))
        hub.publish(play(A, clock, "e-2"))
        await asyncio.wait_for(waiter, timeout=1)
        return subscription.close_code

    assert asyncio.run(scenario()) == 1013


def test_channel_entries_are_freed_when_the_last_subscriber_leaves(hub: WebSocketHub) -> None:
    subscriptions = [hub.subscribe(f"demo-{n}") for n in range(1000)]
    assert hub.channel_count() == 1000

    for subscription in subscriptions:
        hub.unsubscribe(subscription)
        hub.unsubscribe(subscription)  # idempotent

    assert hub.channel_count() == 0


def test_current_video_keeps_the_channel_until_it_expires(hub: WebSocketHub, clock: FakeClock) -> None:
    watcher = hub.subscribe(A)
    hub.publish(play(A, clock, current_for_s=15.0))
    hub.unsubscribe(watcher)
    assert hub.channel_count() == 1  # a reload within the window must still find the video

    clock.advance(16)
    reloaded = hub.subscribe(A)
    hub.unsubscribe(reloaded)

    assert hub.channel_count() == 0


def test_expired_videos_of_untouched_channels_are_swept(hub: WebSocketHub, clock: FakeClock) -> None:
    # Many short-lived demo channels that get one video and are never visited again.
    for n in range(500):
        hub.publish(play(f"demo-{n}", clock, current_for_s=15.0))
    assert hub.channel_count() == 500

    clock.advance(16)
    hub.publish(play(A, clock))  # any later activity sweeps what has expired

    assert hub.channel_count() == 1


def test_session_ended_without_subscribers_frees_the_channel(hub: WebSocketHub, clock: FakeClock) -> None:
    hub.publish(play(A, clock))
    hub.publish(ended(A, clock))

    assert hub.channel_count() == 0


def test_close_drops_everyone_with_1001(hub: WebSocketHub, clock: FakeClock) -> None:
    first, second = hub.subscribe(A), hub.subscribe(B)
    hub.publish(play(A, clock))

    hub.close()

    assert (first.close_code, second.close_code) == (1001, 1001)
    assert hub.channel_count() == 0
    assert hub.publish(play(A, clock)) == 0
    late = hub.subscribe(A)
    assert late.closed
    assert late.close_code == 1001


async def test_notifier_reports_websocket_even_with_nobody_connected(
    hub: WebSocketHub, clock: FakeClock
) -> None:
    notifier = HubNotifier(hub)

    assert notifier.name == "websocket"
    assert await notifier.publish(play(A, clock)) == ("websocket",)
    assert hub.current(A) == encode_frame(play(A, clock))  # kept for the page that connects next


def test_queue_size_must_be_positive(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="queue_size"):
        WebSocketHub(clock, queue_size=0)


def test_a_viewer_receives_its_own_conversation_only_and_late_joins_per_conversation() -> None:
    # Two prospects on one demo never see each other's videos; the owner (demo-wide) sees both; an event
    # that names no conversation reaches everyone.
    clock = FakeClock()
    hub = WebSocketHub(clock)
    channel = "demo-d1"
    alice, bob, owner = hub.subscribe(channel, "alice"), hub.subscribe(channel, "bob"), hub.subscribe(channel)

    def event(conversation: str | None, title: str, name: EventName = EventName.PLAY_VIDEO) -> ChannelEvent:
        payload = {"conversation_id": conversation, "title": title}
        return ChannelEvent(channel, name, payload, f"id-{title}", clock.now(), current_for_s=60)

    assert hub.publish(event("alice", "for alice")) == 2  # alice and the owner
    assert hub.publish(event(None, "for all")) == 3
    titles = {
        name: [json.loads(s.queue.get_nowait())["payload"]["title"] for _ in range(s.queue.qsize())]
        for name, s in (("alice", alice), ("bob", bob), ("owner", owner))
    }
    assert titles == {
        "alice": ["for alice", "for all"],
        "bob": ["for all"],
        "owner": ["for alice", "for all"],
    }

    hub.publish(event("alice", "alice again"))
    late_bob, late_alice = hub.subscribe(channel, "bob"), hub.subscribe(channel, "alice")
    assert json.loads(late_bob.queue.get_nowait())["payload"]["title"] == "for all"
    assert json.loads(late_alice.queue.get_nowait())["payload"]["title"] == "alice again"
    hub.publish(event("alice", "ended", EventName.SESSION_ENDED))
    assert hub.current(channel, "alice") is not None  # the demo-wide video is still current
    assert json.loads(hub.current(channel, "alice") or "{}")["payload"]["title"] == "for all"


def test_a_subscriber_never_queues_what_its_replay_covers(hub: WebSocketHub, clock: FakeClock) -> None:
    """With a shared hub's log, a relay that lags behind it may deliver events up to the head the subscriber
    read before joining: those are its replay's (or older than its join), never queued again."""
    channel = "demo-replayed"
    sub = hub.subscribe(channel, "conv-1", with_current=False, min_seq=5)
    for seq in (4, 5, 6):
        hub.deliver(channel, "play_video", "conv-1", f'{{"id":"e{seq}"}}', None, seq)
    hub.deliver(channel, "play_video", "conv-1", '{"id":"memory"}', None)  # no sequence: the memory hub's
    assert drain(sub) == ['{"id":"e6"}', '{"id":"memory"}']


class RecordingWriter:
    """A FrameWriter that keeps what it was given (the transport's side is ws_direct.py's)."""

    def __init__(self, room: int = 10**9) -> None:
        self.wire: list[bytes] = []
        self.room = room

    def encode(self, frame: str) -> bytes:
        return frame.encode()

    def write(self, wire: bytes) -> bool:
        if len(self.wire) >= self.room:
            return False
        self.wire.append(wire)
        return True


@pytest.mark.parametrize("direct", [False, True], ids=["queue", "direct"])
def test_a_live_event_the_replay_already_had_is_never_sent_again(hub: WebSocketHub, direct: bool) -> None:
    """The subscriber read the log's head (10) and replayed 11 and 12; this instance's relay, lagging,
    delivers 11 and 12 afterwards, then 13: only 13 goes out, after the replay, whichever path it takes."""
    subscription = hub.subscribe("demo-1", with_current=False, min_seq=10)
    replay = [json.dumps({"id": "e11"}), json.dumps({"id": "e12"})]
    subscription.prepend(replay, {"e11", "e12"}, up_to_seq=12)
    writer = RecordingWriter()
    sent: list[str] = subscription.take_replay()
    if direct:
        assert subscription.go_direct(writer)
    for seq in (11, 12, 13):
        hub.deliver("demo-1", "play_video", None, json.dumps({"id": f"e{seq}"}), None, seq=seq)
    if direct:
        sent += [w.decode() for w in writer.wire]
    else:
        while not subscription.queue.empty():
            sent.append(subscription.queue.get_nowait())
    assert [json.loads(frame)["id"] for frame in sent] == ["e11", "e12", "e13"]


def test_a_direct_writer_too_far_behind_is_dropped_with_1013(hub: WebSocketHub) -> None:
    slow, other = hub.subscribe("demo-1"), hub.subscribe("demo-1")
    assert slow.go_direct(RecordingWriter(room=2)) and other.go_direct(RecordingWriter())
    for n in range(3):
        hub.deliver("demo-1", "play_video", None, json.dumps({"id": f"e{n}"}))
    assert slow.close_code == 1013 and other.close_code is None
    assert hub.subscriber_count("demo-1") == 1
