"""StartSession with in-memory fakes: it registers the conversation and decides everything the page gets
(the one transport it subscribes with, the hub token and URL, Supabase access and on private channels the
conversation's own topic and a Realtime token for it), refuses bad input and ended conversations before
anything is registered, and lets an owner watch a whole demo."""

from __future__ import annotations

import functools

import pytest

from demo_relay.domain import errors
from demo_relay.domain.models import ChannelAccess, RealtimeProject, Transport
from demo_relay.domain.use_cases.sessions import (
    StartSession,
    authorize_channel,
    conversation_url_pattern,
    frameable,
)
from tests.support.fakes import (
    FakeCatalog,
    FakeClock,
    FakeConversations,
    FakeRealtimeTokens,
    FakeTokens,
    FakeViewerGrants,
    FixedPolicy,
)

PROJECT = RealtimeProject("https://proj.supabase.co", "anon-key", private=False)


class World:
    def __init__(self, transport: Transport = Transport.WEBSOCKET, project: RealtimeProject | None = None):
        self.clock = FakeClock()
        self.catalog = FakeCatalog()
        self.demo = self.catalog.add_demo("Acme", ["Product Overview"])
        self.conversations = FakeConversations()
        self.tokens = FakeTokens(self.clock)
        self.realtime_tokens = FakeRealtimeTokens(self.clock)
        self.grants = FakeViewerGrants()
        self.use_case = StartSession(
            catalog=self.catalog,
            conversations=self.conversations,
            tokens=self.tokens,
            transports=FixedPolicy(transport),
            websocket_base_url="wss://relay.example",
            realtime=project,
            realtime_tokens=self.realtime_tokens if project and project.private else None,
            grants=self.grants,
        )
        # An owner opens the session unless a test says otherwise.
        self.start = functools.partial(self.use_case.execute, owner=True)


async def test_websocket_session_registers_and_hands_out_a_channel_token() -> None:
    world = World()
    session = await world.start(world.demo.id, "conv-1", "https://tavus.daily.co/conv-1")
    channel = f"demo-{world.demo.id}"
    assert (session.channel, session.conversation_id, session.transport) == (
        channel,
        "conv-1",
        Transport.WEBSOCKET,
    )
    assert session.websocket.url == f"wss://relay.example/ws/{channel}"
    assert world.tokens.channel_of(session.websocket.token) == channel
    assert world.tokens.conversation_of(session.websocket.token) == "conv-1"  # bound to its conversation
    assert session.websocket.expires_at > world.clock.now()
    assert session.supabase is None
    assert await world.conversations.demo_for("conv-1") == world.demo.id


async def test_both_gives_the_page_the_hub_only() -> None:
    world = World(Transport.BOTH, PROJECT)
    session = await world.start(world.demo.id, "conv-1", None)
    assert session.transport is Transport.WEBSOCKET and session.supabase is None


async def test_supabase_session_gets_the_public_project_access() -> None:
    world = World(Transport.SUPABASE, PROJECT)
    session = await world.start(world.demo.id, "conv-1", None)
    assert session.transport is Transport.SUPABASE
    assert session.supabase is not None and session.supabase.project == PROJECT
    assert session.supabase.access_token is None and world.realtime_tokens.issued == []
    assert session.supabase.topic == f"demo-{world.demo.id}"  # public: one topic per demo


PRIVATE = RealtimeProject(PROJECT.url, PROJECT.anon_key, private=True)


async def test_private_channel_session_gets_its_conversations_own_topic_and_a_token_for_it() -> None:
    world = World(Transport.SUPABASE, PRIVATE)
    session = await world.start(world.demo.id, "conv-1", None)
    assert session.supabase is not None
    topic = f"demo-{world.demo.id}:conv-1"
    assert session.supabase.topic == topic
    assert session.supabase.access_token == f"rt:{topic}"
    assert session.supabase.access_token_expires_at is not None
    assert world.realtime_tokens.issued == [(topic, "conv-1")]


async def test_an_owner_may_watch_every_conversation_of_a_demo() -> None:
    world = World(Transport.SUPABASE, PRIVATE)
    session = await world.use_case.watch(world.demo.id)
    channel = f"demo-{world.demo.id}"
    assert session.conversation_id is None
    assert world.tokens.channel_of(session.websocket.token) == channel
    assert (
        world.tokens.conversation_of(session.websocket.token) is None
    )  # the hub sends it every conversation
    assert session.supabase is not None and session.supabase.topic == channel
    assert world.realtime_tokens.issued == [(channel, f"owners-of-{channel}")]
    assert world.conversations.demo_of == {}  # registers nothing


async def test_watching_an_unknown_demo_is_refused() -> None:
    with pytest.raises(errors.UnknownDemo):
        await World().use_case.watch("no-such-demo")


async def test_an_ended_conversation_gets_no_new_session() -> None:
    world = World()
    await world.start(world.demo.id, "conv-1", None)
    await world.conversations.end("conv-1")
    grant, _ = world.grants.issue(world.demo.id, "conv-1", 60)
    with pytest.raises(errors.ConversationEnded):
        await world.use_case.execute(world.demo.id, "conv-1", None, grant)
    with pytest.raises(errors.ConversationEnded):
        await world.start(world.demo.id, "conv-1", None)  # not even an owner re-activates it
    assert await world.conversations.is_ended("conv-1")


async def test_supabase_transport_without_a_project_is_a_configuration_error() -> None:
    world = World(Transport.SUPABASE, None)
    with pytest.raises(errors.ConfigurationError):
        await world.start(world.demo.id, "conv-1", None)


@pytest.mark.parametrize(
    ("conversation_id", "url", "field"),
    [
        ("", None, "conversation_id"),
        ("has space", None, "conversation_id"),
        ("x" * 129, None, "conversation_id"),
        (" conv-1", None, "conversation_id"),
        ("conv-1\n", None, "conversation_id"),  # JSON Schema's `$` is the end of the value
        ("conv-1", "https://tavus.daily.co/c1\n", "conversation_url"),
        ("conv-1", "javascript:alert(1)", "conversation_url"),
        ("conv-1", "https://" + "a" * 2050, "conversation_url"),
    ],
)
async def test_bad_input_is_refused_and_registers_nothing(
    conversation_id: str, url: str | None, field: str
) -> None:
    world = World()
    with pytest.raises(errors.InvalidRequest) as refused:
        await world.start(world.demo.id, conversation_id, url)
    assert refused.value.details["field"] == field
    assert world.conversations.demo_of == {}


async def test_unknown_demo_and_a_conversation_of_another_demo_are_refused() -> None:
    world = World()
    other = world.catalog.add_demo("Other", [])
    with pytest.raises(errors.UnknownDemo):
        await world.start("no-such-demo", "conv-1", None)
    await world.start(world.demo.id, "conv-1", None)
    with pytest.raises(errors.ConversationConflict):
        await world.start(other.id, "conv-1", None)
    assert await world.conversations.demo_for("conv-1") == world.demo.id


def test_authorize_channel_needs_a_token_of_exactly_that_channel() -> None:
    world = World()
    channel = f"demo-{world.demo.id}"
    token, _ = world.tokens.issue(channel)
    assert authorize_channel(world.tokens, token, channel) == ChannelAccess(world.demo.id, channel, None)
    bound, _ = world.tokens.issue(channel, "conv-1")
    assert authorize_channel(world.tokens, bound, channel).conversation_id == "conv-1"
    with pytest.raises(errors.InvalidToken):
        authorize_channel(world.tokens, token, "demo-another")
    with pytest.raises(errors.InvalidToken):
        authorize_channel(world.tokens, "forged", channel)


@pytest.mark.parametrize(
    ("url", "framed"),
    [
        ("https://tavus.daily.co/c7f3a1b2e9d0", True),
        ("https://tavus.daily.co:443/c7f3a1b2e9d0?t=1#x", True),
        ("https://tavus.daily.co", True),
        ("https://TAVUS.Daily.co/c7f3a1b2e9d0", False),  # Tavus's URLs are lower case; the rule is exact
        ("https://tavus.daily.co/a b", False),
        ("https://tavus.daily.co\\@evil.example/", False),
        ("https://daily.co/room", False),  # the wildcard admits subdomains only
        ("https://evil-daily.co/room", False),
        ("https://tavus.daily.co.evil.example/room", False),
        ("https://user:pw@tavus.daily.co/room", False),
        ("http://tavus.daily.co/room", False),  # never framed without TLS
        ("https://login.example.com/phish", False),
        ("javascript:alert(1)", False),
        ("https://[::1", False),
    ],
)
async def test_conversation_url_must_be_on_an_allowed_host(url: str, framed: bool) -> None:
    world = World()
    if framed:
        await world.start(world.demo.id, "conv-1", url)
        assert await world.conversations.demo_for("conv-1") == world.demo.id
    else:
        with pytest.raises(errors.InvalidRequest, match=r"\*\.daily\.co"):
            await world.start(world.demo.id, "conv-1", url)
        assert world.conversations.demo_of == {}


def test_other_hosts_can_be_allowed() -> None:
    assert frameable("https://meet.example.com/x", ["meet.example.com"])
    assert not frameable("https://other.example.com/x", ["meet.example.com"])
    assert not frameable("https://meetxexample.com/x", ["meet.example.com"])  # a dot is a dot
    assert conversation_url_pattern(["*.daily.co", "meet.example.com"]) == (
        r"^https://(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+daily\.co|meet\.example\.com)(:[0-9]{1,5})?([/?#][!-~]*)?$"
    )


@pytest.mark.parametrize("host", ["", "*.", "daily.co/x", "*daily.co", "a..b", "EXAMPLE.com", "-a.com"])
def test_a_host_list_entry_that_is_not_a_host_is_a_configuration_error(host: str) -> None:
    with pytest.raises(errors.ConfigurationError, match="CONVERSATION_URL_HOSTS"):
        conversation_url_pattern([host])


async def test_without_an_owner_token_only_a_matching_viewer_grant_opens_a_session() -> None:
    world = World()
    with pytest.raises(errors.Unauthorized):
        await world.use_case.execute(world.demo.id, "conv-1", None)
    other = world.catalog.add_demo("Other", [])
    for demo_id, conversation_id, grant in (
        (world.demo.id, "conv-1", "forged"),
        (world.demo.id, "conv-1", world.grants.issue(world.demo.id, "conv-2", 60)[0]),
        (world.demo.id, "conv-1", world.grants.issue(other.id, "conv-1", 60)[0]),
    ):
        with pytest.raises(errors.Unauthorized):
            await world.use_case.execute(demo_id, conversation_id, None, grant)
    assert world.conversations.demo_of == {}  # nothing registered by a refused request
    grant, _ = world.grants.issue(world.demo.id, "conv-1", 60)
    session = await world.use_case.execute(world.demo.id, "conv-1", None, grant)
    assert world.tokens.conversation_of(session.websocket.token) == "conv-1"
