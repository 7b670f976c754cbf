"""Ports: what the use cases need from the outside world, one Protocol per need.

Adapters implement them (src/adapters); tests/support/fakes.py has in-memory versions for the unit tests.
Every adapter translates its driver's failures into the domain errors named in the docstrings."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from demo_relay.domain.models import (
    ChannelEvent,
    ConversationHistory,
    ConversationRequest,
    Demo,
    DemoChanges,
    DemoVideo,
    InboundRequest,
    MediaInfo,
    PersonaTool,
    SignedUpload,
    StartedConversation,
    TitleMatch,
    Transport,
    VideoUrl,
    ViewerGrant,
)


class Verdict(enum.Enum):
    """What one signature scheme says of a request."""

    ABSENT = "absent"  # the scheme's headers/params are not there: says nothing
    VALID = "valid"
    INVALID = "invalid"
    STALE = "stale"  # well signed, but the timestamp is outside the tolerance


class SignatureVerifier(Protocol):
    """One authentication scheme of the webhook (X-Tavus-Signature, Standard Webhooks, URL token)."""

    name: str
    # True when a valid signature also covers the request's `webhook-id`: only then may that id decide
    # whether the delivery is a repeat (an unsigned one could be changed to replay a captured request).
    signs_message_id: bool
    # True when a valid proof speaks for one demo only (the per-demo callback token, verified against the
    # URL's `?demo_id=`): the delivery may not touch another demo's conversations.
    binds_demo: bool

    def verify(self, request: InboundRequest, now: datetime) -> Verdict: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class DemoCatalog(Protocol):
    """Demos and their videos. Raises DatabaseUnavailable when the store cannot be reached."""

    async def list_demos(self) -> Sequence[Demo]: ...

    async def get_demo(self, demo_id: str) -> Demo | None: ...

    async def find_video(self, demo_id: str, title: str) -> TitleMatch:
        """Exact title (case- and whitespace-insensitive), else the best fuzzy match above the configured
        threshold, else no video and the demo's closest titles (at most 3, never empty if it has videos)."""
        ...


class CatalogEditor(Protocol):
    """Changes to the catalog (owners, seeding, `add-video`). Raises InvalidRequest for what the catalog
    refuses (a blank name or title, an unknown demo), TitleConflict for a title the demo already has
    however cased or spaced, and DatabaseUnavailable when the store cannot be reached."""

    async def create_demo(
        self, name: str, demo_id: str | None = None, changes: DemoChanges | None = None
    ) -> Demo: ...

    async def update_demo(self, demo_id: str, changes: DemoChanges) -> Demo | None:
        """The changed demo; None when there is no such demo."""
        ...

    async def delete_demo(self, demo_id: str) -> tuple[str, ...] | None:
        """Deletes the demo with its videos, conversations and plays; the storage paths its videos had
        (for the caller to remove), or None when there is no such demo."""
        ...

    async def add_video(
        self,
        demo_id: str,
        title: str,
        storage_path: str,
        duration_s: float | None = None,
        size_bytes: int | None = None,
        content_type: str | None = None,
    ) -> DemoVideo: ...

    async def rename_video(self, demo_id: str, video_id: str, title: str) -> DemoVideo | None:
        """The renamed video; None when the demo has no such video."""
        ...

    async def delete_video(self, demo_id: str, video_id: str) -> DemoVideo | None:
        """The deleted video (its storage path is the caller's to remove); None when there is none."""
        ...

    async def is_empty(self) -> bool:
        """True when there is no demo at all."""
        ...


class PlayHistory(Protocol):
    """What played in which conversation (the owner's view of a demo)."""

    async def record(
        self, event_id: str, demo_id: str, conversation_id: str | None, video: DemoVideo, played_at: datetime
    ) -> None:
        """Once per event id: the same tool call delivered twice is one play."""
        ...

    async def conversations(self, demo_id: str, limit: int = 50) -> Sequence[ConversationHistory]:
        """The demo's conversations, newest first, each with its plays in order."""
        ...


class ConversationDirectory(Protocol):
    """Which demo a Tavus conversation belongs to."""

    async def register(self, conversation_id: str, demo_id: str, conversation_url: str | None) -> None:
        """Again for the same demo (a page reload): keeps it, taking a new URL. For another demo:
        ConversationConflict; once it has ended: ConversationEnded. Either refusal changes nothing."""
        ...

    async def demo_for(self, conversation_id: str) -> str | None: ...

    async def is_ended(self, conversation_id: str) -> bool:
        """True once Tavus reported its end (unknown conversations have not ended)."""
        ...

    async def end(self, conversation_id: str) -> str | None:
        """Marks the conversation ended; returns its demo id (None when unknown)."""
        ...

    async def end_once(self, conversation_id: str) -> tuple[str | None, bool]:
        """Marks the conversation ended: its demo id (None when unknown), and True only for the call that
        ended it (an end already recorded, by our end endpoint or an earlier shutdown, is False)."""
        ...


class ClaimResult(enum.Enum):
    CLAIMED = "claimed"  # new key, or a key whose earlier delivery failed: go ahead
    DUPLICATE = "duplicate"  # in flight or done: send nothing


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    dedupe_key: str
    event_type: str
    conversation_id: str | None
    payload: Mapping[str, Any] | None


class DeliveryLedger(Protocol):
    """Webhook deliveries, for idempotency. `claim` is atomic (never check-then-insert)."""

    async def claim(self, record: DeliveryRecord) -> ClaimResult: ...

    async def complete(self, dedupe_key: str, status: str) -> None: ...

    async def fail(self, dedupe_key: str, status: str, error: str) -> None:
        """Records the failure and releases the claim, so a retry is evaluated afresh."""
        ...

    async def purge(self, before: datetime) -> int:
        """Forgets deliveries whose last activity (claim or outcome) is older than `before`; their count."""
        ...


class VideoUrls(Protocol):
    """A URL the browser can play. Raises VideoMissing / StorageUnavailable."""

    async def url_for(self, video: DemoVideo) -> VideoUrl: ...


class VideoStore(Protocol):
    """Where video files are kept (seeding and `add-video` put them there). Raises StorageUnavailable."""

    async def prepare(self) -> None:
        """Makes the store ready to take files (e.g. creates the bucket)."""
        ...

    async def put(
        self, source: Path, storage_path: str, content_type: str | None = None, *, consume: bool = False
    ) -> None:
        """Stores (or replaces) one object, streamed from `source`, never read whole into memory.
        `consume`: `source` is a scratch copy the store may take (a local store moves it, no second write)."""
        ...

    async def remove(self, storage_path: str) -> None:
        """Deletes one object; an object that is not there is not an error."""
        ...


class DirectUploads(Protocol):
    """A video store a browser can upload to directly (Supabase Storage's signed upload URLs)."""

    async def sign_upload(self, storage_path: str) -> SignedUpload:
        """A URL and token that let their holder upload exactly that object, for a while."""
        ...

    def fetched(self, storage_path: str, max_bytes: int) -> AbstractAsyncContextManager[Path]:
        """A local copy of the object, streamed (VideoMissing when it is not there, VideoTooLarge past
        `max_bytes`), removed on exit."""
        ...


class MediaProbe(Protocol):
    """Reads what a video file's bytes say about it."""

    def inspect(self, path: Path) -> MediaInfo | None:
        """Its type and length (None when the file does not say), or None when it is not a video we take."""
        ...


class Notifier(Protocol):
    """Publishes one event on its channel. Returns the names of the transports that took it.
    Raises TransportUnavailable when none could (nothing half-done is reported as delivered)."""

    async def publish(self, event: ChannelEvent) -> tuple[str, ...]: ...


class TransportPolicy(Protocol):
    """Which transport a channel uses (NOTIFIER default + NOTIFIER_SESSIONS overrides)."""

    def transport_for(self, channel: str) -> Transport: ...


class ChannelTokens(Protocol):
    """Signed, expiring tokens that let a browser subscribe to one channel of the WebSocket hub."""

    def issue(self, channel: str, conversation_id: str | None = None) -> tuple[str, datetime]:
        """A token for one conversation on `channel` (None: all of the channel's conversations)."""
        ...

    def channel_of(self, token: str) -> str:
        """The channel a valid token is bound to; raises InvalidToken otherwise."""
        ...

    def conversation_of(self, token: str) -> str | None:
        """The conversation a valid token is bound to (None: all of its channel's); InvalidToken otherwise."""
        ...


class Owners(Protocol):
    """Who owns the demos: ADMIN_TOKEN holders and, where configured, Supabase Auth users of OWNER_EMAILS."""

    async def identify(self, bearer: str) -> str:
        """Who the owner is ("admin token", or the user's email). Unauthorized for a token that proves
        nobody; Forbidden for a user it proves who is not an owner."""
        ...


class ViewerGrants(Protocol):
    """Signed, expiring proofs that their holder may watch one conversation of one demo."""

    def issue(self, demo_id: str, conversation_id: str, ttl_s: int) -> tuple[str, datetime]: ...

    def verify(self, grant: str) -> ViewerGrant:
        """The grant's demo and conversation; InvalidToken unless it is valid and unexpired."""
        ...


class RealtimeTokens(Protocol):
    """Short-lived Supabase Realtime tokens that admit a page to one private topic."""

    def issue(self, topic: str, holder: str) -> tuple[str, datetime]:
        """A token admitting its holder (a conversation id, or the demo's owners) to `topic` only."""
        ...


# --- the video agent (Tavus): conversations and the persona's tools --------------------------------


class AgentConversations(Protocol):
    """Starts and ends the agent's conversations. Raises AgentCapacity (the provider's concurrency limit),
    AgentUnauthorized (our key refused), AgentRejected (the request refused, e.g. an unknown persona) and
    AgentUnavailable (unreachable, timed out, 5xx)."""

    async def start(self, request: ConversationRequest) -> StartedConversation: ...

    async def end(self, conversation_id: str) -> None:
        """Ends it; one that has ended already, or that the provider does not know, is not an error."""
        ...


class PersonaTools(Protocol):
    """Keeps one tool of ours on a persona, leaving its other tools as they are. Raises the same errors
    as AgentConversations (AgentRejected for a persona that does not exist)."""

    async def install(self, persona_id: str, tool: PersonaTool) -> None:
        """Puts `tool` on the persona (replacing an older version of it, however it was delivered)."""
        ...

    async def uninstall(self, persona_id: str, tool_name: str) -> None:
        """Takes our tool of that name off the persona; absent already is not an error."""
        ...


@dataclass(frozen=True, slots=True)
class SyncTask:
    """A demo whose persona is due for a sync, at the version of the demo the attempt will install."""

    demo_id: str
    version: int
    attempts: int  # failed attempts since the last change
    synced_persona_id: str | None  # where the tool was last installed (a persona it must leave)


class PersonaSyncQueue(Protocol):
    """Demos whose persona must be brought in step with their titles. Every change of a demo's titles,
    name or persona makes it due (the store does it with the change itself); attempts are leased, so
    several workers (instances) never sync one demo at once."""

    async def take_due(self, now: datetime, limit: int, lease_s: float) -> Sequence[SyncTask]: ...

    async def take(self, demo_id: str, now: datetime, lease_s: float) -> SyncTask | None:
        """That demo's task now, due or not (an owner's "Sync now"); None when the demo does not exist
        or another worker holds its lease."""
        ...

    async def succeeded(self, task: SyncTask, persona_id: str | None, at: datetime) -> None:
        """Synced, unless the demo changed since the task was taken (then it stays due)."""
        ...

    async def failed(self, task: SyncTask, error: str, retry_at: datetime) -> None: ...


class ConversationSlots(Protocol):
    """The conversations this deployment started and keeps open, at most `limit` at once across every
    instance. A slot is taken before the provider is asked, so concurrent starts never overshoot."""

    async def reserve(self, demo_id: str, limit: int, ends_by: datetime) -> str | None:
        """A reservation id, or None when `limit` slots are taken."""
        ...

    async def activate(self, reservation: str, conversation_id: str) -> None: ...

    async def release(self, reservation: str) -> None:
        """Gives back a slot whose conversation never started."""
        ...

    async def finish(self, conversation_id: str) -> None:
        """The conversation ended: its slot is free (unknown conversations: nothing happens)."""
        ...

    async def overdue(self, now: datetime, stale_start_s: float) -> Sequence[tuple[str, str]]:
        """(conversation id, demo id) of open conversations past their `ends_by`. Reservations still
        'starting' after `stale_start_s` (a process died while asking the provider) are released."""
        ...

    async def started_here(self, conversation_id: str) -> bool:
        """True for a conversation this deployment started (its session tokens may renew sessions)."""
        ...


class CallbackTokens(Protocol):
    """The token in a per-demo `callback_url`: derived from the webhook secret for one demo, never the
    secret itself, so a leaked callback URL speaks for that demo only."""

    def issue(self, demo_id: str) -> str: ...
