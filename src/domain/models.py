"""Value objects of demo-relay. Plain frozen dataclasses: no I/O, no framework types."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

CHANNEL_PREFIX = "demo-"
# The one tool this service answers; its definition for a persona is in use_cases/tool_definition.py.
PLAY_VIDEO_TOOL = "play_video"
# Tools-registry names are unique per Tavus account, so a demo's registry tool is `play_video_<8 hex>`
# (the first 8 hex digits of the demo id); the webhook answers that name as play_video.
_REGISTRY_TOOL_NAME = re.compile(r"play_video_[0-9a-f]{8}")


def is_play_video(tool_name: str) -> bool:
    """True for the play_video tool under either of its names."""
    return tool_name == PLAY_VIDEO_TOOL or _REGISTRY_TOOL_NAME.fullmatch(tool_name) is not None


def registry_tool_name(demo_id: str) -> str:
    """The name of a demo's play_video tool in the Tavus Tools registry."""
    return f"{PLAY_VIDEO_TOOL}_{demo_id.replace('-', '')[:8].lower()}"


# A late joiner (or a reload) still sees a video until shortly after its end; a video of unknown length
# stays current for 10 minutes.
CURRENT_GRACE_S = 5.0
UNKNOWN_DURATION_CURRENT_S = 600.0


def current_window_s(duration_s: float | None) -> float:
    """How long a play_video of a video this long stays current for late joiners."""
    return UNKNOWN_DURATION_CURRENT_S if duration_s is None else duration_s + CURRENT_GRACE_S


def channel_for(demo_id: str) -> str:
    """The broadcast channel (Supabase Realtime topic, hub channel) of a demo."""
    return f"{CHANNEL_PREFIX}{demo_id}"


def demo_id_of(channel: str) -> str | None:
    """The demo id a `demo-<id>` channel names, or None when the name has another shape."""
    if not channel.startswith(CHANNEL_PREFIX) or len(channel) == len(CHANNEL_PREFIX):
        return None
    return channel[len(CHANNEL_PREFIX) :]


def private_topic_for(channel: str, conversation_id: str | None) -> str:
    """The Supabase Realtime topic a private-channel subscriber joins: one per conversation
    (`demo-<id>:<conversation_id>`), so Realtime's join-time authorisation (RLS on realtime.messages, which
    sees the topic, never the message) admits a viewer to its own conversation's events only; the demo's
    channel itself (`demo-<id>`) carries every conversation's events, for owners watching the demo."""
    return channel if conversation_id is None else f"{channel}:{conversation_id}"


@dataclass(frozen=True, slots=True)
class DemoVideo:
    """A video of a demo; `storage_path` names its object in the video store (local files or a bucket)."""

    id: str
    demo_id: str
    title: str
    storage_path: str
    duration_s: float | None = None
    size_bytes: int | None = None
    content_type: str | None = None


class SyncState(enum.StrEnum):
    """Where a demo's persona stands with its play_video tool."""

    OFF = "off"  # no persona, or Tavus is not configured: nothing to keep in step
    PENDING = "pending"  # a change is waiting for its first attempt
    SYNCED = "synced"
    FAILED = "failed"  # the last attempt failed; retries go on with backoff


@dataclass(frozen=True, slots=True)
class PersonaSync:
    state: SyncState = SyncState.PENDING
    synced_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Demo:
    """A product demo: the videos its agent may play, in the order they were added, and its settings."""

    id: str
    name: str
    videos: tuple[DemoVideo, ...] = ()
    public_start: bool = False
    tavus_persona_id: str | None = None
    tavus_replica_id: str | None = None
    tavus_sync: PersonaSync = PersonaSync()


@dataclass(frozen=True, slots=True)
class DemoChanges:
    """What an owner changes of a demo; None leaves a field as it is (`clear_*` empties one)."""

    name: str | None = None
    public_start: bool | None = None
    tavus_persona_id: str | None = None
    tavus_replica_id: str | None = None
    clear_persona: bool = False
    clear_replica: bool = False


@dataclass(frozen=True, slots=True)
class SignedUpload:
    """Where a browser uploads one video straight to the store, and the object it becomes."""

    storage_path: str
    url: str  # absolute; PUT the file here (supabase-js uploadToSignedUrl)
    token: str


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a video file's bytes say it is."""

    content_type: str  # video/mp4, video/quicktime or video/webm
    duration_s: float | None


@dataclass(frozen=True, slots=True)
class Play:
    """One video that reached a conversation's viewers."""

    video_id: str | None  # None once the video was deleted
    title: str
    played_at: datetime


class ToolDelivery(enum.StrEnum):
    """How the agent's play_video call reaches us (TAVUS_TOOL_DELIVERY)."""

    APP_MESSAGE = "app_message"  # a Daily app-message the page forwards (the bridge)
    API = "api"  # Tavus POSTs it to our webhook, signed with HMAC


@dataclass(frozen=True, slots=True)
class PersonaTool:
    """A tool to keep on a persona: an OpenAI-style function (`name`, `description`, JSON Schema
    `parameters`), delivered as `delivery` says; for API delivery, to `webhook_url`, signed with the
    webhook secret, and the agent hears our answer's `output`."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    delivery: ToolDelivery
    webhook_url: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationRequest:
    """A conversation to start with a demo's persona (the agent), bounded in time."""

    persona_id: str
    replica_id: str | None
    callback_url: str
    max_call_s: int
    participant_left_timeout_s: int
    participant_absent_timeout_s: int
    name: str | None = None
    custom_greeting: str | None = None
    conversational_context: str | None = None


@dataclass(frozen=True, slots=True)
class StartedConversation:
    conversation_id: str
    conversation_url: str
    status: str  # active | ended


@dataclass(frozen=True, slots=True)
class ConversationStart:
    """What starting a conversation gives the page: the room and the session that follows it."""

    conversation: StartedConversation
    session: Session


@dataclass(frozen=True, slots=True)
class ConversationHistory:
    conversation_id: str
    status: str  # active | ended
    created_at: datetime
    ended_at: datetime | None
    plays: tuple[Play, ...]


@dataclass(frozen=True, slots=True)
class Sample:
    """One clip of the sample demo `serve` seeds into an empty database."""

    title: str
    file: Path
    duration_s: float | None


@dataclass(frozen=True, slots=True)
class TitleMatch:
    """Result of looking a title up in a demo: the video, or the closest titles to suggest."""

    video: DemoVideo | None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VideoUrl:
    url: str
    expires_at: datetime | None  # None: the URL does not expire (public objects)


class Transport(enum.StrEnum):
    """How a channel's events reach browsers."""

    WEBSOCKET = "websocket"
    SUPABASE = "supabase"
    BOTH = "both"


# --- inbound: what a webhook body turns out to be -------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A webhook as received: raw body bytes (signatures cover exactly these), headers, query."""

    body: bytes
    headers: Mapping[str, str]  # keys lower-cased
    query: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: Any  # a JSON string (Tavus), an object, or None; parsed by the use case
    conversation_id: str | None = None
    tool_call_id: str | None = None
    inference_id: str | None = None
    seq: int | str | None = None


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    event_type: str
    conversation_id: str | None
    timestamp: str | None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IgnoredEvent:
    reason: str


ParsedEvent = ToolCall | LifecycleEvent | IgnoredEvent


# --- outbound: what goes to browsers --------------------------------------------------------------


class EventName(enum.StrEnum):
    PLAY_VIDEO = "play_video"
    SESSION_ENDED = "session_ended"


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """One message on a channel. `id` is stable for one webhook delivery, so a retried delivery that
    reaches a browser twice can be recognised there."""

    channel: str
    event: EventName
    payload: Mapping[str, Any]
    id: str
    sent_at: datetime
    # How long this event stays "current" for late joiners (play_video: the video's length + grace).
    current_for_s: float | None = None


# --- outcomes of the webhook use case ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Played:
    """The video is on its way to the demo's channel; `output` is the sentence the agent hears."""

    demo_id: str
    channel: str
    video: DemoVideo
    url: VideoUrl
    delivered_via: tuple[str, ...]
    output: str


@dataclass(frozen=True, slots=True)
class Recorded:
    event_type: str


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    dedupe_key: str


WebhookOutcome = Played | Recorded | Ignored | Duplicate


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """What a session token lets its holder do: follow `conversation_id` on the channel of `demo_id`
    (None: every conversation of the demo)."""

    demo_id: str
    channel: str
    conversation_id: str | None


@dataclass(frozen=True, slots=True)
class ViewerGrant:
    """What a viewer link proves: its holder may watch this conversation of this demo."""

    demo_id: str
    conversation_id: str


@dataclass(frozen=True, slots=True)
class ViewerLink:
    url: str  # the page, with the conversation and the grant in its query
    grant: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RealtimeProject:
    """What a browser needs to reach a Supabase project's Realtime: the anon key, never the service key."""

    url: str
    anon_key: str
    private: bool  # private channels: the page also needs a Realtime token (RealtimeAccess.access_token)


@dataclass(frozen=True, slots=True)
class WebSocketAccess:
    url: str  # ws(s)://…/ws/demo-<id>
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RealtimeAccess:
    project: RealtimeProject
    topic: str  # the one to join: the channel, or on private channels the conversation's own topic
    access_token: str | None = None  # private channels only
    access_token_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """What a page needs to follow its conversation: the channel, the one transport it subscribes with,
    and the credentials for it."""

    demo_id: str
    channel: str
    conversation_id: str | None  # None: an owner watching every conversation of the demo
    transport: Transport  # WEBSOCKET or SUPABASE: the page subscribes with exactly one
    websocket: WebSocketAccess
    supabase: RealtimeAccess | None
