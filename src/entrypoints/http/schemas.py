"""Wire shapes of the HTTP API, msgspec Structs; snake_case like Tavus and Supabase.

External clients and tests rely on these field names, so keep them exactly (see docs/contract.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from demo_relay.domain.titles import MAX_TITLE_CHARS, NON_BLANK_PATTERN
from demo_relay.domain.use_cases.sessions import CONVERSATION_ID_PATTERN, MAX_URL_CHARS
from demo_relay.domain.use_cases.viewer_links import MAX_TTL_S, MIN_TTL_S

ConversationId = Annotated[
    str,
    msgspec.Meta(
        pattern=CONVERSATION_ID_PATTERN,
        description="A Tavus conversation id: 1-128 letters, digits, '_', '.', ':' or '-'",
    ),
]
# Its host rule depends on CONVERSATION_URL_HOSTS; the app writes that pattern into the document.
ConversationUrl = Annotated[str, msgspec.Meta(max_length=MAX_URL_CHARS)]
Grant = Annotated[str, msgspec.Meta(max_length=4096, description="A viewer link's grant")]
# A number, not an integer: JSON Schema's integer admits 60.0, msgspec's strict int does not.
TtlS = Annotated[
    float,
    msgspec.Meta(ge=MIN_TTL_S, le=MAX_TTL_S, multiple_of=1, description="Whole seconds; a day when left out"),
]


class VideoOut(msgspec.Struct):
    id: str
    title: str
    duration_s: float | None
    size_bytes: int | None = None
    content_type: str | None = None


class TavusSyncOut(msgspec.Struct):
    state: str  # off | pending | synced | failed
    synced_at: str | None = None
    error: str | None = None


class TavusOut(msgspec.Struct):
    persona_id: str | None
    replica_id: str | None
    sync: TavusSyncOut


class DemoOut(msgspec.Struct):
    id: str
    name: str
    videos: list[VideoOut]
    public_start: bool = False
    tavus: TavusOut | None = None


Name = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=MAX_TITLE_CHARS, pattern=NON_BLANK_PATTERN, description="Shown to owners"
    ),
]
Title = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_TITLE_CHARS,
        pattern=NON_BLANK_PATTERN,
        description="Unique in its demo, however cased",
    ),
]
TavusId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class TavusIn(msgspec.Struct, forbid_unknown_fields=False):
    """The demo's Tavus persona and replica; `null` clears one."""

    persona_id: TavusId | msgspec.UnsetType | None = msgspec.UNSET
    replica_id: TavusId | msgspec.UnsetType | None = msgspec.UNSET


class DemoIn(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    tavus: TavusIn | None = None
    public_start: bool = False


class DemoPatch(msgspec.Struct, forbid_unknown_fields=False):
    """Any of the fields of a new demo; the ones left out stay as they are."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    tavus: TavusIn | msgspec.UnsetType = msgspec.UNSET
    public_start: bool | msgspec.UnsetType = msgspec.UNSET


class VideoPatch(msgspec.Struct, forbid_unknown_fields=False):
    title: Title


class DirectUploadIn(msgspec.Struct, forbid_unknown_fields=False):
    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    size_bytes: Annotated[int, msgspec.Meta(ge=0)] | None = None


class DirectUploadOut(msgspec.Struct):
    """PUT the file to `signed_url` (supabase-js: `uploadToSignedUrl(path, token, file)` on `bucket`), then
    POST `{path, title}` to …/videos/direct/done."""

    bucket: str
    path: str
    token: str
    signed_url: str


class DirectUploadDone(msgspec.Struct, forbid_unknown_fields=False):
    path: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    title: Title


class PlayOut(msgspec.Struct):
    video_id: str | None
    title: str
    played_at: str


class ConversationOut(msgspec.Struct):
    conversation_id: str
    status: str
    created_at: str
    ended_at: str | None
    plays: list[PlayOut]


class SessionIn(msgspec.Struct, forbid_unknown_fields=False):
    """A session for one conversation: an owner's, or a viewer's with its viewer link's grant."""

    conversation_id: ConversationId
    conversation_url: ConversationUrl | None = None
    grant: Grant | None = None


class ViewerLinkIn(msgspec.Struct, forbid_unknown_fields=False):
    """A Tavus conversation, the URL the page may frame it from, and how long the link lives."""

    conversation_id: ConversationId
    conversation_url: ConversationUrl | None = None
    ttl_s: TtlS | None = None


class ViewerLinkOut(msgspec.Struct):
    url: str
    grant: str
    expires_at: str


class WebSocketAccess(msgspec.Struct):
    url: str
    token: str
    expires_at: str


class SupabaseAccess(msgspec.Struct):
    url: str
    anon_key: str
    private: bool
    # The topic to join: `demo-<id>` on public channels; on private ones the conversation's own
    # `demo-<id>:<conversation_id>` (an owner's demo-wide session: `demo-<id>`).
    topic: str
    # Private channels only: a short-lived Realtime JWT for `supabase.realtime.setAuth()`.
    access_token: str | None = None
    access_token_expires_at: str | None = None


class SessionOut(msgspec.Struct):
    channel: str
    transport: str
    demo_id: str
    conversation_id: str | None  # None: an owner's watch session (every conversation of the demo)
    websocket: WebSocketAccess
    supabase: SupabaseAccess | None


class PlayedVideo(msgspec.Struct):
    id: str
    title: str
    url: str


class PlayedOut(msgspec.Struct):
    status: str
    demo_id: str
    channel: str
    video: PlayedVideo
    delivered_via: list[str]
    output: str


class StatusOut(msgspec.Struct):
    status: str


class ErrorOut(msgspec.Struct, forbid_unknown_fields=False):
    """Every error answer: a stable code, a sentence, and details that depend on the code."""

    error: str
    message: str
