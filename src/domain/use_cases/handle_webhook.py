"""The webhook use case: verify → parse → dispatch by event type → resolve → URL → notify.

Checks run in the order of DESIGN.md §4 (size → authentication → JSON → shape → dedupe claim →
arguments → conversation/demo/video → storage/transport), so a request is refused by its first fault
and nothing after that fault happens."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from demo_relay.domain.errors import (
    DomainError,
    PayloadTooLarge,
    UnknownConversation,
    UnknownDemo,
    VideoNotFound,
)
from demo_relay.domain.models import (
    ChannelEvent,
    Duplicate,
    EventName,
    Ignored,
    IgnoredEvent,
    InboundRequest,
    LifecycleEvent,
    Played,
    Recorded,
    ToolCall,
    WebhookOutcome,
    channel_for,
)
from demo_relay.domain.ports import (
    ClaimResult,
    Clock,
    ConversationDirectory,
    DeliveryLedger,
    DeliveryRecord,
    DemoCatalog,
    Notifier,
    SignatureVerifier,
    VideoUrls,
)
from demo_relay.domain.use_cases.authenticate import authenticate
from demo_relay.domain.use_cases.dedupe import dedupe_key, event_id
from demo_relay.domain.use_cases.parse import decode_json, parse_event, video_title

log = logging.getLogger(__name__)

PLAY_VIDEO_TOOL = "play_video"
# A late joiner still sees a video this long after its end; unknown durations count as 10 minutes.
CURRENT_GRACE_S = 5.0
UNKNOWN_DURATION_CURRENT_S = 600.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery being processed: the parsed event plus where it came from."""

    key: str
    headers: Mapping[str, str]
    demo_hint: str | None  # ?demo_id= on the webhook URL
    bound_demo_id: str | None  # set when a session token (not a signature) authenticated the call


@dataclass
class HandleWebhook:
    verifiers: Sequence[SignatureVerifier]
    catalog: DemoCatalog
    conversations: ConversationDirectory
    ledger: DeliveryLedger
    urls: VideoUrls
    notifier: Notifier
    clock: Clock
    max_body_bytes: int = 65536
    _tools: dict[str, Callable[[ToolCall, Delivery], Awaitable[WebhookOutcome]]] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        # The tool table: one handler per tool name this service answers; others are ignored (202).
        self._tools = {PLAY_VIDEO_TOOL: self._play_video}

    async def execute(self, request: InboundRequest) -> WebhookOutcome:
        """A webhook from Tavus (or a relay): authenticated by signature or URL token."""
        self._check_size(request.body)
        authenticate(self.verifiers, request, self.clock.now())
        return await self._process(request.body, request.headers, request.query.get("demo_id"), None)

    async def execute_for_session(self, body: bytes, demo_id: str) -> WebhookOutcome:
        """A tool call forwarded by the page (Daily app-message), authenticated by its session token,
        which binds it to one demo."""
        self._check_size(body)
        return await self._process(body, {}, None, demo_id)

    def _check_size(self, body: bytes) -> None:
        if len(body) > self.max_body_bytes:
            raise PayloadTooLarge(f"the body is larger than {self.max_body_bytes} bytes")

    async def _process(
        self, body: bytes, headers: Mapping[str, str], demo_hint: str | None, bound_demo_id: str | None
    ) -> WebhookOutcome:
        document = decode_json(body)
        event = parse_event(document)
        if isinstance(event, IgnoredEvent):
            return Ignored(event.reason)
        if isinstance(event, ToolCall) and event.name not in self._tools:
            return Ignored(f"tool {event.name[:64]!r} is not handled here")

        key = dedupe_key(event, headers, body)
        record = DeliveryRecord(key, _event_type(event), event.conversation_id, _as_payload(document))
        if await self.ledger.claim(record) is ClaimResult.DUPLICATE:
            return Duplicate(key)
        delivery = Delivery(key, headers, demo_hint, bound_demo_id)
        try:
            if isinstance(event, ToolCall):
                outcome = await self._tools[event.name](event, delivery)
            else:
                outcome = await self._lifecycle(event, delivery)
        except DomainError as exc:
            await self._release(key, exc.code, exc.message)
            raise
        except Exception as exc:
            await self._release(key, "internal_error", type(exc).__name__)
            raise
        await self.ledger.complete(key, "played" if isinstance(outcome, Played) else "recorded")
        return outcome

    async def _release(self, key: str, status: str, error: str) -> None:
        try:
            await self.ledger.fail(key, status, error)
        except DomainError:  # the ledger is down too; the original error is the one to report
            log.warning("could not record the failure of delivery %s", key)

    # --- tools ----------------------------------------------------------------------------------

    async def _play_video(self, call: ToolCall, delivery: Delivery) -> WebhookOutcome:
        title = video_title(call.arguments)
        demo_id = await self._resolve_demo(call.conversation_id, delivery)
        match = await self.catalog.find_video(demo_id, title)
        if match.video is None:
            raise VideoNotFound(title, match.suggestions)
        video = match.video
        url = await self.urls.url_for(video)
        channel = channel_for(demo_id)
        payload: dict[str, Any] = {
            "url": url.url,
            "title": video.title,
            "video_id": video.id,
            "demo_id": demo_id,
            "conversation_id": call.conversation_id,
            "tool_call_id": call.tool_call_id,
            "expires_at": url.expires_at.isoformat() if url.expires_at else None,
        }
        current_for = (
            video.duration_s + CURRENT_GRACE_S if video.duration_s is not None else UNKNOWN_DURATION_CURRENT_S
        )
        delivered = await self.notifier.publish(
            ChannelEvent(
                channel=channel,
                event=EventName.PLAY_VIDEO,
                payload=payload,
                id=event_id(delivery.key),
                sent_at=self.clock.now(),
                current_for_s=current_for,
            )
        )
        return Played(
            demo_id=demo_id,
            channel=channel,
            video=video,
            url=url,
            delivered_via=delivered,
            output=f'Now playing "{video.title}" for the viewer.',
        )

    async def _resolve_demo(self, conversation_id: str | None, delivery: Delivery) -> str:
        if delivery.bound_demo_id is not None:
            return delivery.bound_demo_id
        if conversation_id:
            demo_id = await self.conversations.demo_for(conversation_id)
            if demo_id is not None:
                return demo_id
        if delivery.demo_hint:
            demo = await self.catalog.get_demo(delivery.demo_hint)
            if demo is None:
                raise UnknownDemo("no demo with that demo_id", demo_id=delivery.demo_hint)
            return demo.id
        raise UnknownConversation(
            "the conversation is not registered with a demo (POST /api/demos/{id}/sessions) "
            "and the webhook URL names no demo_id",
            conversation_id=conversation_id,
        )

    # --- lifecycle ------------------------------------------------------------------------------

    async def _lifecycle(self, event: LifecycleEvent, delivery: Delivery) -> WebhookOutcome:
        if event.event_type == "system.shutdown" and event.conversation_id:
            demo_id = await self.conversations.end(event.conversation_id)
            demo_id = demo_id or delivery.bound_demo_id or await self._hinted_demo(delivery)
            if demo_id is not None:
                reason = event.properties.get("shutdown_reason")
                await self.notifier.publish(
                    ChannelEvent(
                        channel=channel_for(demo_id),
                        event=EventName.SESSION_ENDED,
                        payload={
                            "conversation_id": event.conversation_id,
                            "reason": reason if isinstance(reason, str) else "shutdown",
                        },
                        id=event_id(delivery.key),
                        sent_at=self.clock.now(),
                    )
                )
        return Recorded(event.event_type)

    async def _hinted_demo(self, delivery: Delivery) -> str | None:
        if not delivery.demo_hint:
            return None
        demo = await self.catalog.get_demo(delivery.demo_hint)
        return demo.id if demo else None


def _event_type(event: ToolCall | LifecycleEvent) -> str:
    return f"tool_call.{event.name}" if isinstance(event, ToolCall) else event.event_type


def _as_payload(document: Any) -> Mapping[str, Any] | None:
    return document if isinstance(document, dict) else None
