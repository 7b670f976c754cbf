"""The Tavus use cases with in-memory fakes: persona sync (the tool follows the titles, leaves a persona the
demo left, goes when the demo has no videos, a failure is recorded and retried with backoff, an attempt
that raced a change never marks the demo synced); starting a conversation (bounded request, per-demo
callback URL, our cap, a slot given back when Tavus refuses, public starts only where allowed); ending
once; the reaper."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from demo_relay.domain import errors
from demo_relay.domain.models import (
    PLAY_VIDEO_TOOL,
    ChannelEvent,
    Duplicate,
    EventName,
    LifecycleEvent,
    Recorded,
    ToolDelivery,
    registry_tool_name,
)
from demo_relay.domain.use_cases.agent_conversations import (
    PARTICIPANT_ABSENT_TIMEOUT_S,
    PARTICIPANT_LEFT_TIMEOUT_S,
    EndConversation,
    ReapConversations,
    StartConversation,
)
from demo_relay.domain.use_cases.deliveries import Delivery
from demo_relay.domain.use_cases.lifecycle import ConversationEnds, RecordLifecycle
from demo_relay.domain.use_cases.persona_sync import SyncPersonas, retry_delay_s
from demo_relay.domain.use_cases.sessions import StartSession
from tests.support.fakes import (
    FakeAgent,
    FakeCallbackTokens,
    FakeCatalog,
    FakeClock,
    FakeConversations,
    FakeNotifier,
    FakeSlots,
    FakeSyncQueue,
    FakeTokens,
    FixedPolicy,
)

WEBHOOK = "https://relay.example/api/tavus-webhook"


class World:
    def __init__(self, delivery: ToolDelivery = ToolDelivery.APP_MESSAGE, max_concurrent: int = 2) -> None:
        self.clock = FakeClock()
        self.catalog = FakeCatalog()
        demo = self.catalog.add_demo("Acme", ["Product Overview", "Pricing"])
        self.demo = replace(demo, tavus_persona_id="p1", tavus_replica_id="r1")
        self.catalog.demos[demo.id] = self.demo
        self.agent = FakeAgent()
        self.queue = FakeSyncQueue()
        self.queue.change(self.demo.id, self.clock.now())
        self.sync = SyncPersonas(self.catalog, self.queue, self.agent, self.clock, delivery, WEBHOOK)
        self.slots = FakeSlots()
        self.conversations = FakeConversations()
        self.notifier = FakeNotifier()
        sessions = StartSession(
            self.catalog, self.conversations, FakeTokens(self.clock), FixedPolicy(), "wss://relay.example"
        )
        self.start = StartConversation(
            catalog=self.catalog,
            agent=self.agent,
            slots=self.slots,
            conversations=self.conversations,
            callback_tokens=FakeCallbackTokens(),
            sessions=sessions,
            clock=self.clock,
            webhook_url=WEBHOOK,
            max_concurrent=max_concurrent,
            max_call_s=600,
            default_replica_id="r-default",
        )
        self.end = EndConversation(self.agent, self.slots, self.conversations, self.notifier, self.clock)
        self.reaper = ReapConversations(self.agent, self.slots, self.conversations, self.notifier, self.clock)

    def titles_on(self, persona: str, name: str = PLAY_VIDEO_TOOL) -> list[str]:
        return list(self.agent.personas[persona][name].parameters["properties"]["video_title"]["enum"])

    def change(self, **fields: object) -> None:
        self.demo = replace(self.demo, **fields)  # type: ignore[arg-type]
        self.catalog.demos[self.demo.id] = self.demo
        self.queue.change(self.demo.id, self.clock.now())


# --- persona sync -----------------------------------------------------------------------------------


async def test_sync_installs_the_titles_and_follows_renames_and_removals() -> None:
    world = World()
    assert await world.sync.run_due() == 1
    assert world.titles_on("p1") == ["Product Overview", "Pricing"]
    assert world.queue.state[world.demo.id] == "synced"
    await world.catalog.rename_video(world.demo.id, world.demo.videos[1].id, "Pricing tour")
    await world.catalog.delete_video(world.demo.id, world.demo.videos[0].id)
    world.queue.change(world.demo.id, world.clock.now())
    await world.sync.run_due()
    assert world.titles_on("p1") == ["Pricing tour"]
    assert await world.sync.run_due() == 0  # in step: nothing is due


async def test_a_demo_without_videos_gets_no_tool() -> None:
    world = World()
    await world.sync.run_due()
    world.change(videos=())
    await world.sync.run_due()
    assert world.agent.personas["p1"] == {}
    assert world.queue.state[world.demo.id] == "synced"


async def test_a_persona_the_demo_left_loses_the_tool() -> None:
    world = World()
    await world.sync.run_due()
    world.change(tavus_persona_id="p2")
    await world.sync.run_due()
    assert PLAY_VIDEO_TOOL not in world.agent.personas["p1"]
    assert world.titles_on("p2") == ["Product Overview", "Pricing"]
    world.change(tavus_persona_id=None)
    await world.sync.run_due()
    assert world.agent.personas["p2"] == {}


async def test_api_delivery_installs_the_demo_named_registry_tool_and_drops_the_inline_one() -> None:
    world = World(ToolDelivery.API)
    # The same demo, synced earlier while the deployment delivered by app_message.
    earlier = replace(world.sync, delivery=ToolDelivery.APP_MESSAGE)
    await earlier.run_due()
    assert set(world.agent.personas["p1"]) == {PLAY_VIDEO_TOOL}
    world.queue.change(world.demo.id, world.clock.now())  # TAVUS_TOOL_DELIVERY=api from now on
    name = registry_tool_name(world.demo.id)
    await world.sync.run_due()
    tool = world.agent.personas["p1"][name]
    assert tool.delivery is ToolDelivery.API
    assert tool.webhook_url == f"{WEBHOOK}?demo_id={world.demo.id}"
    assert set(world.agent.personas["p1"]) == {name}


async def test_a_failure_is_recorded_and_retried_with_growing_backoff() -> None:
    world = World()
    world.agent.fail_with = errors.AgentUnavailable("Tavus answered 503")
    await world.sync.run_due()
    assert world.queue.state[world.demo.id] == "failed"
    assert "tavus_unavailable" in (world.queue.errors[world.demo.id] or "")
    assert world.queue.due_at[world.demo.id] == world.clock.now() + _seconds(retry_delay_s(1))
    assert await world.sync.run_due() == 0  # not before its time
    world.clock.advance(retry_delay_s(1))
    await world.sync.run_due()
    assert world.queue.due_at[world.demo.id] == world.clock.now() + _seconds(retry_delay_s(2))
    assert retry_delay_s(2) == 2 * retry_delay_s(1) and retry_delay_s(30) == 600.0
    world.agent.fail_with = None
    world.clock.advance(retry_delay_s(2))
    await world.sync.run_due()
    assert world.queue.state[world.demo.id] == "synced" and world.queue.errors[world.demo.id] is None


async def test_an_attempt_that_raced_a_change_leaves_the_demo_due() -> None:
    world = World()
    task = (await world.queue.take_due(world.clock.now(), 10, 60))[0]
    world.queue.change(world.demo.id, world.clock.now())  # a title changed while the attempt ran
    await world.sync.attempt(task)
    assert world.queue.state[world.demo.id] == "pending"
    await world.sync.run_due()
    assert world.queue.state[world.demo.id] == "synced"


async def test_sync_now_without_tavus_is_refused() -> None:
    world = World()
    world.sync.tools = None
    with pytest.raises(errors.AgentNotConfigured):
        await world.sync.sync_now(world.demo.id)


# --- starting and ending conversations ------------------------------------------------------------


async def test_start_asks_for_a_bounded_conversation_with_a_per_demo_callback() -> None:
    world = World()
    started = await world.start.execute(world.demo.id, owner=True, greeting="Hi!")
    request = world.agent.started[0]
    assert (request.persona_id, request.replica_id) == ("p1", "r1")
    assert request.max_call_s == 600
    assert request.participant_left_timeout_s == PARTICIPANT_LEFT_TIMEOUT_S <= 60
    assert request.participant_absent_timeout_s == PARTICIPANT_ABSENT_TIMEOUT_S <= 300
    assert request.custom_greeting == "Hi!"
    query = parse_qs(urlsplit(request.callback_url).query)
    assert query == {"demo_id": [world.demo.id], "callback_token": [f"cb-{world.demo.id}"]}
    conversation_id = started.conversation.conversation_id
    assert await world.conversations.demo_for(conversation_id) == world.demo.id
    assert started.session.conversation_id == conversation_id
    assert await world.slots.started_here(conversation_id)


async def test_the_default_replica_stands_in_for_a_demo_without_one() -> None:
    world = World()
    world.change(tavus_replica_id=None)
    await world.start.execute(world.demo.id, owner=True)
    assert world.agent.started[0].replica_id == "r-default"


async def test_our_cap_is_answered_as_capacity_and_asks_tavus_nothing() -> None:
    world = World(max_concurrent=2)
    await world.start.execute(world.demo.id, owner=True)
    await world.start.execute(world.demo.id, owner=True)
    with pytest.raises(errors.AgentCapacity) as refused:
        await world.start.execute(world.demo.id, owner=True)
    assert refused.value.retry_after_s > 0
    assert len(world.agent.started) == 2


@pytest.mark.parametrize(
    "failure",
    [
        errors.AgentCapacity("Tavus: maximum concurrent conversations"),
        errors.AgentUnavailable("down"),
        errors.AgentUnauthorized("key"),
    ],
)
async def test_a_refused_start_gives_its_slot_back(failure: errors.DomainError) -> None:
    world = World(max_concurrent=1)
    world.agent.fail_with = failure
    with pytest.raises(type(failure)):
        await world.start.execute(world.demo.id, owner=True)
    assert world.slots.open == 0 and world.conversations.demo_of == {}
    world.agent.fail_with = None
    await world.start.execute(world.demo.id, owner=True)  # the slot is free again


async def test_public_start_only_where_the_demo_allows_it() -> None:
    world = World()
    with pytest.raises(errors.Unauthorized):
        await world.start.execute(world.demo.id, owner=False)
    assert world.agent.started == []
    world.change(public_start=True)
    await world.start.execute(world.demo.id, owner=False)
    assert len(world.agent.started) == 1


async def test_start_without_tavus_or_persona_is_not_configured() -> None:
    world = World()
    world.change(tavus_persona_id=None)
    with pytest.raises(errors.AgentNotConfigured):
        await world.start.execute(world.demo.id, owner=True)
    world.start.agent = None
    with pytest.raises(errors.AgentNotConfigured):
        await world.start.execute(world.demo.id, owner=True)


async def test_end_tells_tavus_and_the_page_once_and_the_shutdown_is_a_duplicate() -> None:
    world = World()
    started = await world.start.execute(world.demo.id, owner=True)
    conversation_id = started.conversation.conversation_id
    await world.end.execute(world.demo.id, conversation_id, token_conversation=conversation_id)
    await world.end.execute(world.demo.id, conversation_id, token_conversation=None)  # again: nothing new
    assert world.agent.ended == [conversation_id, conversation_id]
    assert [e.event for e in world.notifier.events] == [EventName.SESSION_ENDED]
    assert world.slots.open == 0
    lifecycle = RecordLifecycle(world.catalog, world.conversations, world.notifier, world.clock, world.slots)
    shutdown = LifecycleEvent("system.shutdown", conversation_id, "t", {"shutdown_reason": "x"})
    assert isinstance(await lifecycle.execute(shutdown, Delivery("k")), Duplicate)
    transcript = LifecycleEvent("application.transcription_ready", conversation_id, "t2")
    assert isinstance(await lifecycle.execute(transcript, Delivery("k2")), Recorded)
    assert len(world.notifier.events) == 1


async def test_a_shutdown_arriving_while_our_end_tells_the_page_is_a_duplicate() -> None:
    """Tavus posts system.shutdown as soon as we ask it to end the call: the callback can run while our end
    is still telling the page. One of the two tells it; the other is the duplicate."""
    world = World()
    started = await world.start.execute(world.demo.id, owner=True)
    conversation_id = started.conversation.conversation_id
    ends = ConversationEnds()
    end = EndConversation(world.agent, world.slots, world.conversations, world.notifier, world.clock, ends)
    lifecycle = RecordLifecycle(
        world.catalog, world.conversations, world.notifier, world.clock, world.slots, ends
    )
    shutdown = LifecycleEvent("system.shutdown", conversation_id, "t", {"shutdown_reason": "x"})
    callbacks: list[asyncio.Task[Recorded | Duplicate]] = []
    publish = world.notifier.publish

    async def slow_publish(event: ChannelEvent) -> tuple[str, ...]:
        if not callbacks:  # the callback arrives while our end is between telling and recording
            callbacks.append(asyncio.create_task(lifecycle.execute(shutdown, Delivery("k"))))
            await asyncio.sleep(0.01)
        return await publish(event)

    world.notifier.publish = slow_publish  # type: ignore[method-assign]
    await end.execute(world.demo.id, conversation_id, token_conversation=None)
    assert isinstance(await callbacks[0], Duplicate)
    assert [e.event for e in world.notifier.events] == [EventName.SESSION_ENDED]


async def test_a_session_token_ends_only_its_own_conversation() -> None:
    world = World()
    first = (await world.start.execute(world.demo.id, owner=True)).conversation.conversation_id
    second = (await world.start.execute(world.demo.id, owner=True)).conversation.conversation_id
    with pytest.raises(errors.InvalidToken):
        await world.end.execute(world.demo.id, second, token_conversation=first)
    other = world.catalog.add_demo("Other", ["x"])
    with pytest.raises(errors.UnknownConversation):
        await world.end.execute(other.id, first, token_conversation=None)
    assert world.agent.ended == []


async def test_the_reaper_closes_what_outlived_its_longest_call() -> None:
    world = World()
    started = await world.start.execute(world.demo.id, owner=True)
    assert await world.reaper.run_once() == 0
    world.clock.advance(600 + 121)
    assert await world.reaper.run_once() == 1
    assert world.agent.ended == [started.conversation.conversation_id]
    assert world.slots.open == 0
    assert world.notifier.events[0].payload["reason"] == "max_call_duration_exceeded"


async def test_the_reaper_retries_when_tavus_is_down() -> None:
    world = World()
    started = await world.start.execute(world.demo.id, owner=True)
    world.clock.advance(10_000)
    world.agent.fail_with = errors.AgentUnavailable("down")
    await world.reaper.run_once()
    assert world.slots.open == 1 and world.notifier.events == []
    world.agent.fail_with = None
    await world.reaper.run_once()
    assert world.slots.open == 0
    assert world.agent.ended == [started.conversation.conversation_id]


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


async def test_a_started_conversation_the_page_cannot_get_is_ended_at_once() -> None:
    world = World()
    world.conversations.demo_of["c000001"] = "another-demo"  # registering it will fail
    with pytest.raises(errors.ConversationConflict):
        await world.start.execute(world.demo.id, owner=True)
    assert world.agent.ended == ["c000001"]  # not billed until Tavus's own timeouts
    assert world.slots.open == 0


async def test_an_end_the_page_could_not_be_told_of_is_told_on_the_retry() -> None:
    world = World()
    conversation_id = (await world.start.execute(world.demo.id, owner=True)).conversation.conversation_id
    lifecycle = RecordLifecycle(world.catalog, world.conversations, world.notifier, world.clock, world.slots)
    shutdown = LifecycleEvent("system.shutdown", conversation_id, "t", {"shutdown_reason": "left"})
    world.notifier.down = True
    with pytest.raises(errors.TransportUnavailable):
        await lifecycle.execute(shutdown, Delivery("k"))
    assert not await world.conversations.is_ended(conversation_id)  # not recorded: the retry must tell
    world.notifier.down = False
    assert isinstance(await lifecycle.execute(shutdown, Delivery("k")), Recorded)
    assert [e.payload["reason"] for e in world.notifier.events] == ["left"]
    # The same for our own end endpoint: a 502 for the owner, then the retry tells the page.
    other = (await world.start.execute(world.demo.id, owner=True)).conversation.conversation_id
    world.notifier.down = True
    with pytest.raises(errors.TransportUnavailable):
        await world.end.execute(world.demo.id, other, token_conversation=None)
    world.notifier.down = False
    await world.end.execute(world.demo.id, other, token_conversation=None)
    assert [e.payload["conversation_id"] for e in world.notifier.events] == [conversation_id, other]


async def test_the_reaper_frees_the_slot_even_when_tavus_refuses_the_end() -> None:
    world = World(max_concurrent=1)
    await world.start.execute(world.demo.id, owner=True)
    world.clock.advance(10_000)
    world.agent.fail_with = errors.AgentUnauthorized("key revoked")
    await world.reaper.run_once()
    assert world.slots.open == 0 and len(world.notifier.events) == 1
    world.agent.fail_with = None
    await world.start.execute(world.demo.id, owner=True)  # the slot is free again
