"""Wire shapes of the HTTP API, msgspec Structs; snake_case like Tavus and Supabase.

External clients and tests rely on these field names, so keep them exactly (see docs/contract.md)."""

from __future__ import annotations

import msgspec


class VideoOut(msgspec.Struct):
    id: str
    title: str
    duration_s: float | None


class DemoOut(msgspec.Struct):
    id: str
    name: str
    videos: list[VideoOut]


class ConversationIn(msgspec.Struct, forbid_unknown_fields=False):
    """A Tavus conversation, and the URL the page may frame it from."""

    conversation_id: str
    conversation_url: str | None = None


class SessionIn(msgspec.Struct, forbid_unknown_fields=False):
    """A viewer's session is for one conversation (and carries its viewer link's grant); an owner's may
    leave the conversation out to watch every conversation of the demo."""

    conversation_id: str | None = None
    conversation_url: str | None = None
    grant: str | None = None  # a viewer link's


class ViewerLinkIn(ConversationIn):
    ttl_s: int | None = None


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
    conversation_id: str | None  # None: an owner's session watching every conversation of the demo
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
