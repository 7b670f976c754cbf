"""SupabaseRealtimeNotifier against the local Supabase's REST broadcast: the exact message Realtime gets
(topic without `realtime:`, event, payload + event_id, private flag; on private channels a conversation's
event also on the conversation's own topic, in the same request), 429 and 5xx retried within the
bound, a refusal (4xx: a wrong key) not retried, and every failure reported as TransportUnavailable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from demo_relay.adapters.notifiers.supabase_realtime import SupabaseRealtimeNotifier
from demo_relay.domain.errors import TransportUnavailable
from demo_relay.domain.models import ChannelEvent, EventName
from tests.support.supabase import RunningFakeSupabase, running_fake_supabase

EVENT = ChannelEvent(
    "demo-d1",
    EventName.PLAY_VIDEO,
    {"url": "https://x/y.mp4", "title": "Intro"},
    "evt-1",
    datetime.now(UTC),
    11.0,
)


@pytest.fixture
async def supabase() -> AsyncIterator[RunningFakeSupabase]:
    async with running_fake_supabase() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def notifier(
    http: httpx.AsyncClient, supabase: RunningFakeSupabase, *, key: str | None = None, private: bool = False
):
    return SupabaseRealtimeNotifier(
        http,
        supabase.url,
        key or supabase.service_key,
        private,
        attempt_timeout_s=0.5,
        backoff_initial_s=0.01,
    )


async def test_the_broadcast_realtime_receives(
    supabase: RunningFakeSupabase, http: httpx.AsyncClient
) -> None:
    assert await notifier(http, supabase, private=True).publish(EVENT) == ("supabase",)
    [received] = supabase.fake.stats.broadcasts
    assert {k: received[k] for k in ("topic", "event", "payload", "private")} == (
        {
            "topic": "demo-d1",
            "event": "play_video",
            "payload": {"url": "https://x/y.mp4", "title": "Intro", "event_id": "evt-1"},
            "private": True,
        }
    )


@pytest.mark.parametrize(("private", "topics"), [(False, ["demo-d1"]), (True, ["demo-d1", "demo-d1:c-9"])])
async def test_a_conversations_event_on_private_channels_also_goes_to_its_own_topic(
    supabase: RunningFakeSupabase, http: httpx.AsyncClient, private: bool, topics: list[str]
) -> None:
    event = ChannelEvent(
        "demo-d1", EventName.PLAY_VIDEO, {"url": "u", "conversation_id": "c-9"}, "evt-2", datetime.now(UTC)
    )
    await notifier(http, supabase, private=private).publish(event)
    assert [b["topic"] for b in supabase.fake.stats.broadcasts] == topics
    assert sum(supabase.fake.stats.requests.values()) == 1  # one request carries both
    assert {b["private"] for b in supabase.fake.stats.broadcasts} == {private}


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_retried(
    supabase: RunningFakeSupabase, http: httpx.AsyncClient, status: int
) -> None:
    supabase.fake.inject("realtime_rest", status=status, times=2)
    assert await notifier(http, supabase).publish(EVENT) == ("supabase",)
    assert supabase.fake.stats.requests["realtime_rest"] == 3
    assert len(supabase.fake.stats.broadcasts) == 1


async def test_retries_are_bounded(supabase: RunningFakeSupabase, http: httpx.AsyncClient) -> None:
    supabase.fake.inject("realtime_rest", status=500, times=None)
    with pytest.raises(TransportUnavailable, match="after 3 attempt"):
        await notifier(http, supabase).publish(EVENT)
    assert supabase.fake.stats.requests["realtime_rest"] == 3 and supabase.fake.stats.broadcasts == []


async def test_a_refused_key_is_not_retried(supabase: RunningFakeSupabase, http: httpx.AsyncClient) -> None:
    with pytest.raises(TransportUnavailable, match="refused the broadcast"):
        await notifier(http, supabase, key="wrong-key").publish(EVENT)
    assert supabase.fake.stats.requests["realtime_rest"] == 1 and supabase.fake.stats.broadcasts == []


async def test_unreachable_realtime_is_transport_unavailable(http: httpx.AsyncClient) -> None:
    async with running_fake_supabase() as gone:
        url, key = gone.url, gone.service_key
    dead = SupabaseRealtimeNotifier(http, url, key, False, attempt_timeout_s=0.5, backoff_initial_s=0.01)
    with pytest.raises(TransportUnavailable, match="ConnectError"):
        await dead.publish(EVENT)
