"""Per-session transport choice: the default, overrides per channel, `both` fanning out and failing as a
whole, and a selection that names an unconfigured transport refused at start."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from demo_relay.adapters.notifiers.routing import RoutingNotifier, TransportTable
from demo_relay.domain.errors import ConfigurationError, TransportUnavailable
from demo_relay.domain.models import ChannelEvent, EventName, Transport
from tests.support.fakes import FakeNotifier

A, B, C = "demo-a", "demo-b", "demo-c"


def event(channel: str) -> ChannelEvent:
    return ChannelEvent(channel, EventName.PLAY_VIDEO, {"url": "u"}, "id", datetime.now(UTC))


@pytest.fixture
def notifiers() -> dict[Transport, FakeNotifier]:
    return {Transport.WEBSOCKET: FakeNotifier("websocket"), Transport.SUPABASE: FakeNotifier("supabase")}


async def test_default_and_overrides(notifiers: dict[Transport, FakeNotifier]) -> None:
    table = TransportTable(Transport.WEBSOCKET, {B: Transport.SUPABASE, C: Transport.BOTH})
    router = RoutingNotifier(table, notifiers)
    assert await router.publish(event(A)) == ("websocket",)
    assert await router.publish(event(B)) == ("supabase",)
    assert sorted(await router.publish(event(C))) == ["supabase", "websocket"]
    assert [e.channel for e in notifiers[Transport.WEBSOCKET].events] == [A, C]
    assert [e.channel for e in notifiers[Transport.SUPABASE].events] == [B, C]


async def test_both_fails_as_a_whole_and_sends_nothing_when_supabase_is_down(
    notifiers: dict[Transport, FakeNotifier],
) -> None:
    notifiers[Transport.SUPABASE].down = True
    router = RoutingNotifier(TransportTable(Transport.BOTH, {}), notifiers)
    with pytest.raises(TransportUnavailable, match="supabase"):
        await router.publish(event(A))
    # Nothing half-done: the hub's viewers did not get an event that the retry would send again.
    assert notifiers[Transport.WEBSOCKET].events == []
    notifiers[Transport.SUPABASE].down = False
    assert await router.publish(event(A)) == ("supabase", "websocket")
    assert len(notifiers[Transport.WEBSOCKET].events) == len(notifiers[Transport.SUPABASE].events) == 1


def test_selecting_an_unconfigured_transport_is_refused_at_start() -> None:
    table = TransportTable(Transport.WEBSOCKET, {B: Transport.SUPABASE})
    with pytest.raises(ConfigurationError, match="supabase"):
        RoutingNotifier(table, {Transport.WEBSOCKET: FakeNotifier()})
