"""The webhook use case with in-memory fakes of every port: the order of checks (413, 401, 400, 202,
dedupe claim, 422, 404, 502/503), the three tool-call shapes, dedupe (duplicates send nothing, failures
release the claim), title resolution with suggestions, lifecycle events and session_ended."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import pytest

from demo_relay.domain import errors
from demo_relay.domain.models import (
    ChannelAccess,
    Duplicate,
    EventName,
    Ignored,
    InboundRequest,
    Played,
    Recorded,
)
from demo_relay.domain.ports import ClaimResult, DeliveryRecord, Verdict
from demo_relay.domain.use_cases.deliveries import Deliveries
from demo_relay.domain.use_cases.forward_tool_call import ForwardToolCall
from demo_relay.domain.use_cases.handle_webhook import HandleWebhook
from demo_relay.domain.use_cases.lifecycle import RecordLifecycle
from demo_relay.domain.use_cases.play_video import PlayVideo
from demo_relay.domain.use_cases.purge import PurgeDeliveries
from tests.support.fakes import (
    FakeCatalog,
    FakeClock,
    FakeConversations,
    FakeLedger,
    FakeNotifier,
    FakeVideoUrls,
)
from tests.support.tavus_fixtures import fixture_bytes

CONVERSATION = "c7f3a1b2e9d0"
TITLES = ["Product Overview", "Pricing Walkthrough", "Integrations tour"]


class HeaderVerifier:
    """Fake scheme: the `x-test-auth` header says the verdict ('valid', 'invalid', 'stale')."""

    name = "test"
    signs_message_id = True  # like Standard Webhooks; UnsignedIdVerifier below is like X-Tavus-Signature
    binds_demo = False

    def verify(self, request: InboundRequest, now: datetime) -> Verdict:
        value = request.headers.get("x-test-auth")
        return Verdict.ABSENT if value is None else Verdict(value)


class UnsignedIdVerifier(HeaderVerifier):
    """A scheme whose signature does not cover `webhook-id` (X-Tavus-Signature, the URL token)."""

    name = "unsigned-id"
    signs_message_id = False
    binds_demo = False

    def verify(self, request: InboundRequest, now: datetime) -> Verdict:
        value = request.headers.get("x-unsigned-auth")
        return Verdict.ABSENT if value is None else Verdict(value)


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.catalog = FakeCatalog()
        self.demo = self.catalog.add_demo("Acme", TITLES)
        self.other = self.catalog.add_demo("Other", ["Secret roadmap"])
        self.conversations = FakeConversations()
        self.ledger = FakeLedger(self.clock)
        self.urls = FakeVideoUrls(self.clock)
        self.notifier = FakeNotifier()
        deliveries = Deliveries(self.ledger)
        play_video = PlayVideo(self.catalog, self.conversations, self.urls, self.notifier, self.clock)
        lifecycle = RecordLifecycle(self.catalog, self.conversations, self.notifier, self.clock)
        self.use_case = HandleWebhook(
            verifiers=[HeaderVerifier(), UnsignedIdVerifier()],
            deliveries=deliveries,
            play_video=play_video,
            lifecycle=lifecycle,
            clock=self.clock,
            conversations=self.conversations,
            max_body_bytes=4096,
        )
        self.bridge = ForwardToolCall(deliveries, play_video, self.conversations, max_body_bytes=4096)

    async def send(
        self,
        body: bytes | dict[str, Any],
        auth: str = "valid",
        query: dict[str, str] | None = None,
        **headers: str,
    ) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = {"x-test-auth": auth, **{k.replace("_", "-"): v for k, v in headers.items()}}
        return await self.use_case.execute(InboundRequest(raw, hdrs, query or {}))


@pytest.fixture
async def world() -> World:
    w = World()
    await w.conversations.register(CONVERSATION, w.demo.id, None)
    return w


def viewer_of(demo: Any, conversation: str = CONVERSATION) -> ChannelAccess:
    """A viewer's session token: one conversation of the demo."""
    return ChannelAccess(demo.id, f"demo-{demo.id}", conversation)


def tool_call(title: Any, call_id: str = "call_1", conversation: str = CONVERSATION) -> dict[str, Any]:
    return {
        "event_type": "conversation.tool_call",
        "conversation_id": conversation,
        "properties": {"name": "play_video", "tool_call_id": call_id, "arguments": json.dumps(title)},
    }


async def test_app_message_fixture_plays_the_video_on_the_demo_channel(world: World) -> None:
    outcome = await world.send(fixture_bytes("tool_call.play_video.json"))
    assert isinstance(outcome, Played)
    assert outcome.video.title == "Product Overview"
    assert outcome.channel == f"demo-{world.demo.id}"
    assert outcome.delivered_via == ("websocket",)
    [event] = world.notifier.events
    assert event.event is EventName.PLAY_VIDEO and event.channel == outcome.channel
    assert event.payload["url"] == outcome.url.url
    assert event.payload["tool_call_id"] == "call_8e2f4c1a"
    assert event.payload["conversation_id"] == CONVERSATION
    assert event.payload["video_id"] == outcome.video.id and event.payload["demo_id"] == world.demo.id
    assert event.payload["expires_at"] == outcome.url.expires_at.isoformat()  # type: ignore[union-attr]
    assert event.current_for_s == 8.0 + 5.0
    assert world.ledger.entries["call_8e2f4c1a"].status == "played"


@pytest.mark.parametrize(
    ("fixture", "title"),
    [
        ("tool_call.api_delivery.json", "Integrations tour"),
        ("tool_call.short_form.json", "Pricing Walkthrough"),
    ],
)
async def test_other_tool_call_shapes_play(world: World, fixture: str, title: str) -> None:
    outcome = await world.send(fixture_bytes(fixture))
    assert isinstance(outcome, Played) and outcome.video.title == title
    assert len(world.notifier.events) == 1


async def test_title_matching_ignores_case_and_spacing_then_falls_back_to_fuzzy(world: World) -> None:
    played = await world.send(tool_call({"video_title": "  PRODUCT   overview "}, "a"))
    assert played.video.title == "Product Overview"
    fuzzy = await world.send(tool_call({"video_title": "pricing walkthru"}, "b"))
    assert fuzzy.video.title == "Pricing Walkthrough"


async def test_unknown_title_is_404_with_suggestions_and_nothing_sent(world: World) -> None:
    with pytest.raises(errors.VideoNotFound) as caught:
        await world.send(tool_call({"video_title": "Quantum teleporter"}))
    assert caught.value.details["video_title"] == "Quantum teleporter"
    assert sorted(caught.value.details["suggestions"]) == sorted(TITLES)
    assert world.notifier.events == []


async def test_a_video_of_another_demo_is_never_played(world: World) -> None:
    with pytest.raises(errors.VideoNotFound) as caught:
        await world.send(tool_call({"video_title": "Secret roadmap"}))
    assert "Secret roadmap" not in caught.value.details["suggestions"]


@pytest.mark.parametrize(
    "arguments",
    [{"video_title": ""}, {"video_title": "   "}, {}, {"video_title": 3}, "not json", "[1]", None],
)
async def test_missing_or_blank_title_is_invalid_arguments(world: World, arguments: Any) -> None:
    body = tool_call("x")
    body["properties"]["arguments"] = arguments if isinstance(arguments, str) else json.dumps(arguments)
    if arguments == "not json":
        body["properties"]["arguments"] = "{not json"
    with pytest.raises(errors.InvalidArguments):
        await world.send(body)
    assert world.notifier.events == []


async def test_duplicate_delivery_sends_nothing_again(world: World) -> None:
    body = fixture_bytes("tool_call.play_video.json")
    assert isinstance(await world.send(body), Played)
    again = await world.send(body)
    assert again == Duplicate("call_8e2f4c1a")
    assert len(world.notifier.events) == 1


async def test_failed_delivery_releases_its_claim_so_a_retry_is_evaluated_afresh(world: World) -> None:
    world.notifier.down = True
    body = fixture_bytes("tool_call.play_video.json")
    with pytest.raises(errors.TransportUnavailable):
        await world.send(body)
    assert world.ledger.entries["call_8e2f4c1a"].status == "transport_unavailable"
    world.notifier.down = False
    retried = await world.send(body)
    assert isinstance(retried, Played)
    assert world.ledger.entries["call_8e2f4c1a"].attempts == 2
    assert len(world.notifier.events) == 1


async def test_event_id_is_stable_across_retries_of_one_delivery(world: World) -> None:
    world.urls.missing.add(world.demo.videos[0].storage_path)
    body = fixture_bytes("tool_call.play_video.json")
    with pytest.raises(errors.VideoMissing):
        await world.send(body)
    world.urls.missing.clear()
    first = await world.send(body)
    assert isinstance(first, Played)
    other = await world.send(tool_call({"video_title": "Product Overview"}, "another_call"))
    assert isinstance(other, Played)
    assert world.notifier.events[0].id != world.notifier.events[1].id


@pytest.mark.parametrize(
    ("headers", "expected_key"),
    [
        ({"webhook_id": "msg_1"}, "msg_1"),
        ({}, "call_8e2f4c1a"),
    ],
)
async def test_dedupe_key_prefers_webhook_id(
    world: World, headers: dict[str, str], expected_key: str
) -> None:
    await world.send(fixture_bytes("tool_call.play_video.json"), **headers)
    assert list(world.ledger.entries) == [expected_key]


async def test_dedupe_key_falls_back_to_inference_id_then_conversation_seq_then_body_hash(
    world: World,
) -> None:
    document = json.loads(fixture_bytes("tool_call.play_video.json"))
    del document["properties"]["tool_call_id"]
    await world.send(document)
    del document["inference_id"]
    await world.send(document)
    del document["seq"]
    await world.send(document)
    keys = list(world.ledger.entries)
    assert keys[0] == "83294d9f-8306-491b-a284-791f56c8383f"
    assert keys[1] == f"{CONVERSATION}:42"
    assert len(keys[2]) == 64  # sha256 hex of the body


async def test_unknown_conversation_is_404_unless_the_url_names_a_demo(world: World) -> None:
    body = tool_call({"video_title": "Product Overview"}, conversation="never-registered")
    with pytest.raises(errors.UnknownConversation):
        await world.send(body)
    played = await world.send(body, query={"demo_id": world.demo.id})
    assert isinstance(played, Played) and played.demo_id == world.demo.id


async def test_unknown_demo_in_the_url_is_404(world: World) -> None:
    body = tool_call({"video_title": "Product Overview"}, conversation="never-registered")
    with pytest.raises(errors.UnknownDemo):
        await world.send(body, query={"demo_id": "00000000-0000-0000-0000-000000000000"})


async def test_registered_conversation_wins_over_the_url_demo(world: World) -> None:
    played = await world.send(
        tool_call({"video_title": "Product Overview"}), query={"demo_id": world.other.id}
    )
    assert played.demo_id == world.demo.id


@pytest.mark.parametrize("auth", ["invalid", None])
async def test_unauthenticated_requests_are_refused_before_anything_else(
    world: World, auth: str | None
) -> None:
    raw = b"{not even json"
    request = InboundRequest(raw, {} if auth is None else {"x-test-auth": auth}, {})
    with pytest.raises(errors.AuthenticationFailed) as caught:
        await world.use_case.execute(request)
    assert caught.value.code == "invalid_signature"
    assert world.ledger.entries == {}


async def test_only_stale_failures_say_stale_timestamp(world: World) -> None:
    with pytest.raises(errors.StaleTimestamp):
        await world.send(fixture_bytes("tool_call.play_video.json"), auth="stale")
    assert world.notifier.events == []


async def test_size_is_checked_before_authentication(world: World) -> None:
    with pytest.raises(errors.PayloadTooLarge):
        await world.send(b"x" * 5000, auth="invalid")


async def test_malformed_json_is_400_after_authentication(world: World) -> None:
    with pytest.raises(errors.MalformedJson):
        await world.send(b'{"event_type": ')
    with pytest.raises(errors.MalformedJson):
        await world.send(b"\xff\xfe")


@pytest.mark.parametrize(
    "body",
    [
        fixture_bytes("tool_call.other_tool.json"),
        b"[1, 2]",
        b'"hello"',
        b'{"event_type": "conversation.utterance", "properties": {}}',
        b'{"hello": "world"}',
    ],
)
async def test_other_tools_and_unknown_shapes_are_ignored_and_unrecorded(world: World, body: bytes) -> None:
    assert isinstance(await world.send(body), Ignored)
    assert world.notifier.events == [] and world.ledger.entries == {}


@pytest.mark.parametrize("fixture", ["system.replica_joined.json", "application.transcription_ready.json"])
async def test_lifecycle_events_are_recorded_once(world: World, fixture: str) -> None:
    assert isinstance(await world.send(fixture_bytes(fixture)), Recorded)
    assert isinstance(await world.send(fixture_bytes(fixture)), Duplicate)
    assert world.notifier.events == []


async def test_shutdown_ends_the_conversation_and_sends_session_ended(world: World) -> None:
    outcome = await world.send(fixture_bytes("system.shutdown.json"))
    assert outcome == Recorded("system.shutdown")
    assert CONVERSATION in world.conversations.ended
    [event] = world.notifier.events
    assert event.event is EventName.SESSION_ENDED
    assert event.channel == f"demo-{world.demo.id}"
    assert event.payload == {"conversation_id": CONVERSATION, "reason": "participant_left_timeout"}
    # Events after shutdown are still accepted.
    assert isinstance(await world.send(fixture_bytes("application.transcription_ready.json")), Recorded)


async def test_shutdown_of_an_unknown_conversation_is_recorded_without_sending(world: World) -> None:
    document = json.loads(fixture_bytes("system.shutdown.json"))
    document["conversation_id"] = "someone-else"
    assert isinstance(await world.send(document), Recorded)
    assert world.notifier.events == []


async def test_session_bound_tool_call_uses_the_token_demo(world: World) -> None:
    body = json.dumps(tool_call({"video_title": "Secret roadmap"}, conversation="unregistered")).encode()
    played = await world.bridge.execute(body, viewer_of(world.other, "unregistered"))
    assert isinstance(played, Played) and played.demo_id == world.other.id


async def test_a_delivery_stuck_in_processing_is_taken_over_after_the_lease(world: World) -> None:
    # The claimer died mid-way (no complete, no fail): within the lease a retry is a duplicate, after it the
    # retry is evaluated afresh, as the Postgres ledger does.
    record = DeliveryRecord("call_1", "tool_call.play_video", CONVERSATION, None)
    assert await world.ledger.claim(record) is ClaimResult.CLAIMED
    assert isinstance(await world.send(tool_call({"video_title": "Product Overview"})), Duplicate)
    world.clock.advance(world.ledger.lease_s + 1)
    assert isinstance(await world.send(tool_call({"video_title": "Product Overview"})), Played)
    assert world.ledger.entries["call_1"].attempts == 2


async def test_the_bridge_takes_tool_calls_only(world: World) -> None:
    # The lifecycle of a conversation is Tavus's to report (signed webhook); a page cannot end one.
    with pytest.raises(errors.InvalidRequest):
        await world.bridge.execute(fixture_bytes("system.shutdown.json"), viewer_of(world.demo))
    assert world.conversations.ended == set() and world.notifier.events == [] and world.ledger.entries == {}
    ignored = await world.bridge.execute(fixture_bytes("tool_call.other_tool.json"), viewer_of(world.demo))
    assert isinstance(ignored, Ignored) and world.ledger.entries == {}


async def test_a_demo_wide_token_forwards_nothing(world: World) -> None:
    # An owner's session watches the whole demo; only a conversation's own page forwards its tool calls.
    owner = ChannelAccess(world.demo.id, f"demo-{world.demo.id}", None)
    with pytest.raises(errors.InvalidToken, match="demo-wide"):
        await world.bridge.execute(fixture_bytes("tool_call.play_video.json"), owner)
    assert world.ledger.entries == {} and world.notifier.events == []


async def test_the_bridge_checks_size_and_json_first(world: World) -> None:
    with pytest.raises(errors.PayloadTooLarge):
        await world.bridge.execute(b"{" + b" " * 5000 + b"}", viewer_of(world.demo))
    with pytest.raises(errors.MalformedJson):
        await world.bridge.execute(b"{not json", viewer_of(world.demo))


async def test_an_unsigned_webhook_id_never_decides_dedupe(world: World) -> None:
    # A captured X-Tavus-Signature request replayed with a fresh webhook-id: still the same tool call.
    body = fixture_bytes("tool_call.play_video.json")
    first = await world.use_case.execute(
        InboundRequest(body, {"x-unsigned-auth": "valid", "webhook-id": "msg_1"}, {})
    )
    replay = await world.use_case.execute(
        InboundRequest(body, {"x-unsigned-auth": "valid", "webhook-id": "msg_2"}, {})
    )
    assert isinstance(first, Played) and isinstance(replay, Duplicate)
    assert list(world.ledger.entries) == ["call_8e2f4c1a"] and len(world.notifier.events) == 1


async def test_a_bridged_call_cannot_pre_claim_a_signed_delivery(world: World) -> None:
    body = fixture_bytes("tool_call.play_video.json")
    bridged = await world.bridge.execute(body, viewer_of(world.demo))
    signed = await world.send(body)
    assert isinstance(bridged, Played) and isinstance(signed, Played)
    assert sorted(world.ledger.entries) == [f"bridge:{CONVERSATION}:call_8e2f4c1a", "call_8e2f4c1a"]
    # Its own repeats still are duplicates.
    assert isinstance(await world.bridge.execute(body, viewer_of(world.demo)), Duplicate)


async def test_retention_forgets_old_deliveries_so_an_old_repeat_is_evaluated_again(world: World) -> None:
    purge = PurgeDeliveries(world.ledger, world.clock, retention_s=30 * 86400)
    body = fixture_bytes("tool_call.play_video.json")
    assert isinstance(await world.send(body), Played)
    world.clock.advance(29 * 86400)
    assert await purge.execute() == 0 and isinstance(await world.send(body), Duplicate)
    world.clock.advance(2 * 86400)
    assert await purge.execute() == 1 and world.ledger.entries == {}
    assert await purge.execute(older_than_s=1) == 0


@pytest.mark.parametrize(
    "arguments",
    ["[" * 2000, '{"video_title": "\\ud800"}', '{"video_title": NaN}', '{"video_title": 1e999}'],
)
async def test_hostile_arguments_strings_are_invalid_arguments(world: World, arguments: str) -> None:
    body = tool_call({"video_title": "x"})
    body["properties"]["arguments"] = arguments
    with pytest.raises(errors.InvalidArguments):
        await world.send(body)
    with pytest.raises(errors.InvalidArguments):
        await world.bridge.execute(json.dumps(body).encode(), viewer_of(world.demo))
    assert world.notifier.events == []


async def test_a_cancelled_delivery_releases_its_claim(world: World) -> None:
    # Cancelled mid-way (the client went away, the server shuts down): Tavus's retry must play, not be a
    # duplicate for the whole lease.
    class Stalled:
        async def url_for(self, video: Any) -> Any:
            raise asyncio.CancelledError

    world.use_case.play_video.urls = Stalled()
    with pytest.raises(asyncio.CancelledError):
        await world.send(tool_call({"video_title": "Product Overview"}))
    assert world.ledger.entries["call_1"].status == "internal_error"
    world.use_case.play_video.urls = world.urls
    assert isinstance(await world.send(tool_call({"video_title": "Product Overview"})), Played)


async def test_a_tool_call_delivered_both_ways_reaches_the_page_with_one_event_id(world: World) -> None:
    body = fixture_bytes("tool_call.play_video.json")
    await world.bridge.execute(body, viewer_of(world.demo))
    await world.send(body)
    first, second = world.notifier.events
    assert first.id == second.id  # the page drops the second as a repeat


async def test_a_viewer_token_bridges_only_its_own_conversation(world: World) -> None:
    viewer = ChannelAccess(world.demo.id, f"demo-{world.demo.id}", CONVERSATION)
    other = tool_call({"video_title": "Product Overview"}, "call_x", conversation="someone-else")
    with pytest.raises(errors.InvalidToken):
        await world.bridge.execute(json.dumps(other).encode(), viewer)
    assert world.ledger.entries == {} and world.notifier.events == []
    unnamed = tool_call({"video_title": "Product Overview"}, "call_y")
    del unnamed["conversation_id"]
    played = await world.bridge.execute(json.dumps(unnamed).encode(), viewer)
    assert isinstance(played, Played)
    [event] = world.notifier.events
    assert event.payload["conversation_id"] == CONVERSATION  # the token's conversation, for its viewers only
    assert list(world.ledger.entries) == [f"bridge:{CONVERSATION}:call_y"]


async def test_an_ended_conversation_takes_no_more_bridged_calls(world: World) -> None:
    viewer = ChannelAccess(world.demo.id, f"demo-{world.demo.id}", CONVERSATION)
    await world.send(fixture_bytes("system.shutdown.json"))
    body = json.dumps(tool_call({"video_title": "Product Overview"})).encode()
    with pytest.raises(errors.InvalidToken, match="ended"):
        await world.bridge.execute(body, viewer)
    assert [e.event for e in world.notifier.events] == [EventName.SESSION_ENDED]
