"""In-memory fakes of the domain ports, for the use-case unit tests (cosmicpython's FakeRepository idea).

They keep the ports' contracts (atomic claim, title matching rules, errors) without I/O."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from demo_relay.domain.errors import (
    AlreadyListed,
    ConversationConflict,
    ConversationEnded,
    DomainError,
    InvalidRequest,
    InvalidToken,
    StorageUnavailable,
    TitleConflict,
    TransportUnavailable,
    VideoMissing,
)
from demo_relay.domain.models import (
    ChannelEvent,
    ConversationHistory,
    ConversationRequest,
    Demo,
    DemoChanges,
    DemoVideo,
    MediaInfo,
    PersonaTool,
    Play,
    StartedConversation,
    TitleMatch,
    Transport,
    VideoUrl,
    ViewerGrant,
)
from demo_relay.domain.ports import (
    AgentConversations,
    CallbackTokens,
    CatalogEditor,
    ChannelTokens,
    ClaimResult,
    Clock,
    ConversationDirectory,
    ConversationSlots,
    DeliveryLedger,
    DeliveryRecord,
    DemoCatalog,
    MediaProbe,
    Notifier,
    PersonaSyncQueue,
    PersonaTools,
    PlayHistory,
    RealtimeTokens,
    SyncTask,
    TransportPolicy,
    VideoStore,
    VideoUrls,
    ViewerGrants,
)
from demo_relay.domain.titles import checked_name, checked_video, title_key


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def _trigrams(text: str) -> set[str]:
    # pg_trgm's idea: words padded with two spaces in front and one behind.
    grams: set[str] = set()
    for word in "".join(c if c.isalnum() else " " for c in text.lower()).split():
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a: str, b: str) -> float:
    ga, gb = _trigrams(a), _trigrams(b)
    return len(ga & gb) / len(ga | gb) if ga and gb else 0.0


class FakeCatalog:
    def __init__(self, threshold: float = 0.3) -> None:
        self.demos: dict[str, Demo] = {}
        self.threshold = threshold

    def add_demo(self, name: str, titles: Sequence[str], duration_s: float | None = 8.0) -> Demo:
        demo_id = str(uuid.uuid4())
        videos = tuple(
            DemoVideo(str(uuid.uuid4()), demo_id, t, f"{demo_id}/{i}.mp4", duration_s)
            for i, t in enumerate(titles)
        )
        self.demos[demo_id] = Demo(demo_id, name, videos)
        return self.demos[demo_id]

    async def list_demos(self) -> Sequence[Demo]:
        return list(self.demos.values())

    async def get_demo(self, demo_id: str) -> Demo | None:
        return self.demos.get(demo_id)

    async def find_video(self, demo_id: str, title: str) -> TitleMatch:
        videos = self.demos[demo_id].videos if demo_id in self.demos else ()
        for video in videos:
            if title_key(video.title) == title_key(title):
                return TitleMatch(video)
        ranked = sorted(videos, key=lambda v: (-similarity(v.title, title), v.title))
        if ranked and similarity(ranked[0].title, title) >= self.threshold:
            return TitleMatch(ranked[0])
        return TitleMatch(None, tuple(v.title for v in ranked[:3]))

    # --- CatalogEditor: the rules of AsyncpgDemoCatalog's writes --------------------------------

    async def create_demo(
        self, name: str, demo_id: str | None = None, changes: DemoChanges | None = None
    ) -> Demo:
        name = checked_name(name)
        demo_id = demo_id or str(uuid.uuid4())
        if demo_id in self.demos:
            raise InvalidRequest("a demo with this id already exists", demo_id=demo_id)
        self.demos[demo_id] = _changed(Demo(demo_id, name), changes or DemoChanges())
        return self.demos[demo_id]

    async def update_demo(self, demo_id: str, changes: DemoChanges) -> Demo | None:
        demo = self.demos.get(demo_id)
        if demo is None:
            return None
        if changes.name is not None:
            checked_name(changes.name)
        self.demos[demo_id] = _changed(demo, changes)
        return self.demos[demo_id]

    async def delete_demo(self, demo_id: str) -> tuple[str, ...] | None:
        demo = self.demos.pop(demo_id, None)
        return None if demo is None else tuple(v.storage_path for v in demo.videos)

    async def add_video(
        self,
        demo_id: str,
        title: str,
        storage_path: str,
        duration_s: float | None = None,
        size_bytes: int | None = None,
        content_type: str | None = None,
    ) -> DemoVideo:
        demo = self.demos.get(demo_id)
        if demo is None:
            raise InvalidRequest("unknown demo", field="demo_id", demo_id=demo_id)
        title = checked_video(title, storage_path, duration_s)
        if any(title_key(v.title) == title_key(title) for v in demo.videos):
            raise TitleConflict(f"the demo already has a video titled {title!r}", field="title")
        if any(v.storage_path == storage_path for d in self.demos.values() for v in d.videos):
            raise AlreadyListed(storage_path)
        video = DemoVideo(
            str(uuid.uuid4()), demo_id, title, storage_path, duration_s, size_bytes, content_type
        )
        self.demos[demo_id] = replace(demo, videos=(*demo.videos, video))
        return video

    async def rename_video(self, demo_id: str, video_id: str, title: str) -> DemoVideo | None:
        title = checked_video(title, "-", None)
        demo = self.demos.get(demo_id)
        video = next((v for v in demo.videos if v.id == video_id), None) if demo else None
        if demo is None or video is None:
            return None
        if any(title_key(v.title) == title_key(title) and v.id != video_id for v in demo.videos):
            raise TitleConflict(f"the demo already has a video titled {title!r}", field="title")
        renamed = replace(video, title=title)
        self.demos[demo_id] = replace(
            demo, videos=tuple(renamed if v.id == video_id else v for v in demo.videos)
        )
        return renamed

    async def delete_video(self, demo_id: str, video_id: str) -> DemoVideo | None:
        demo = self.demos.get(demo_id)
        video = next((v for v in demo.videos if v.id == video_id), None) if demo else None
        if demo is None or video is None:
            return None
        self.demos[demo_id] = replace(demo, videos=tuple(v for v in demo.videos if v.id != video_id))
        return video

    async def is_empty(self) -> bool:
        return not self.demos


def _changed(demo: Demo, changes: DemoChanges) -> Demo:
    return replace(
        demo,
        name=" ".join(changes.name.split()) if changes.name is not None else demo.name,
        public_start=demo.public_start if changes.public_start is None else changes.public_start,
        tavus_persona_id=None if changes.clear_persona else changes.tavus_persona_id or demo.tavus_persona_id,
        tavus_replica_id=None if changes.clear_replica else changes.tavus_replica_id or demo.tavus_replica_id,
    )


class FakePlayHistory:
    def __init__(self) -> None:
        self.plays: dict[str, tuple[str, str | None, DemoVideo, datetime]] = {}

    async def record(
        self, event_id: str, demo_id: str, conversation_id: str | None, video: DemoVideo, played_at: datetime
    ) -> None:
        self.plays.setdefault(event_id, (demo_id, conversation_id, video, played_at))

    async def conversations(self, demo_id: str, limit: int = 50) -> Sequence[ConversationHistory]:
        by_conversation: dict[str, list[Play]] = {}
        for demo, conversation, video, at in self.plays.values():
            if demo == demo_id and conversation is not None:
                by_conversation.setdefault(conversation, []).append(Play(video.id, video.title, at))
        return [
            ConversationHistory(c, "active", plays[0].played_at, None, tuple(plays))
            for c, plays in by_conversation.items()
        ][:limit]


class FakeVideoStore:
    """Objects by storage path; `down` makes every call fail as an unreachable store does."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.prepared = False
        self.down = False

    async def prepare(self) -> None:
        self._check()
        self.prepared = True

    async def put(
        self, source: Path, storage_path: str, content_type: str | None = None, *, consume: bool = False
    ) -> None:
        self._check()
        self.objects[storage_path] = source.read_bytes()

    async def remove(self, storage_path: str) -> None:
        self._check()
        self.objects.pop(storage_path, None)

    def _check(self) -> None:
        if self.down:
            raise StorageUnavailable("the video store is down")


class FakeProbe:
    """Every file is an MP4 unless its bytes start with b"not a video"; durations by file name."""

    def __init__(self, durations: dict[str, float] | None = None) -> None:
        self.durations = durations or {}

    def inspect(self, path: Path) -> MediaInfo | None:
        if path.read_bytes().startswith(b"not a video"):
            return None
        return MediaInfo("video/mp4", self.durations.get(path.name))


class FakeRealtimeTokens:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.issued: list[tuple[str, str]] = []

    def issue(self, topic: str, holder: str) -> tuple[str, datetime]:
        self.issued.append((topic, holder))
        return f"rt:{topic}", self.clock.now() + timedelta(minutes=30)


class FakeConversations:
    def __init__(self) -> None:
        self.demo_of: dict[str, str] = {}
        self.ended: set[str] = set()

    async def register(self, conversation_id: str, demo_id: str, conversation_url: str | None) -> None:
        if self.demo_of.get(conversation_id, demo_id) != demo_id:
            raise ConversationConflict("registered to another demo")
        if conversation_id in self.ended:
            raise ConversationEnded("the conversation has ended")
        self.demo_of[conversation_id] = demo_id

    async def demo_for(self, conversation_id: str) -> str | None:
        return self.demo_of.get(conversation_id)

    async def is_ended(self, conversation_id: str) -> bool:
        return conversation_id in self.ended

    async def end(self, conversation_id: str) -> str | None:
        if conversation_id not in self.demo_of:
            return None
        self.ended.add(conversation_id)
        return self.demo_of[conversation_id]

    async def end_once(self, conversation_id: str) -> tuple[str | None, bool]:
        if conversation_id not in self.demo_of:
            return None, False
        newly = conversation_id not in self.ended
        self.ended.add(conversation_id)
        return self.demo_of[conversation_id], newly


@dataclass
class LedgerEntry:
    record: DeliveryRecord
    claimed_at: datetime
    status: str = "processing"
    attempts: int = 1
    error: str | None = None
    completed_at: datetime | None = None


class FakeLedger:
    """The rule of AsyncpgDeliveryLedger, in memory: a key is claimed again only when its last delivery
    failed (recognised by its recorded error, never by a list of status names) or when it has been
    'processing' for longer than the lease (the claimer died)."""

    def __init__(self, clock: FakeClock, lease_s: float = 120.0) -> None:
        self.clock = clock
        self.lease_s = lease_s
        self.entries: dict[str, LedgerEntry] = {}

    async def claim(self, record: DeliveryRecord) -> ClaimResult:
        now = self.clock.now()
        entry = self.entries.get(record.dedupe_key)
        if entry is None:
            self.entries[record.dedupe_key] = LedgerEntry(record, claimed_at=now)
            return ClaimResult.CLAIMED
        failed = entry.status != "processing" and entry.error is not None
        abandoned = entry.status == "processing" and entry.claimed_at < now - timedelta(seconds=self.lease_s)
        if not (failed or abandoned):
            return ClaimResult.DUPLICATE
        entry.record, entry.claimed_at, entry.completed_at = record, now, None
        entry.status, entry.attempts, entry.error = "processing", entry.attempts + 1, None
        return ClaimResult.CLAIMED

    async def complete(self, dedupe_key: str, status: str) -> None:
        entry = self.entries[dedupe_key]
        entry.status, entry.error, entry.completed_at = status, None, self.clock.now()

    async def fail(self, dedupe_key: str, status: str, error: str) -> None:
        entry = self.entries[dedupe_key]
        entry.status, entry.error, entry.completed_at = status, error or status, self.clock.now()

    async def purge(self, before: datetime) -> int:
        old = [k for k, e in self.entries.items() if (e.completed_at or e.claimed_at) < before]
        for key in old:
            del self.entries[key]
        return len(old)


class FakeVideoUrls:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.missing: set[str] = set()
        self.calls = 0

    async def url_for(self, video: DemoVideo) -> VideoUrl:
        self.calls += 1
        if video.storage_path in self.missing:
            raise VideoMissing(video.storage_path)
        expires = self.clock.now() + timedelta(hours=1)
        return VideoUrl(f"https://media.test/{video.storage_path}?exp={int(expires.timestamp())}", expires)


@dataclass
class FakeNotifier:
    name: str = "websocket"
    events: list[ChannelEvent] = field(default_factory=list)
    down: bool = False

    async def publish(self, event: ChannelEvent) -> tuple[str, ...]:
        if self.down:
            raise TransportUnavailable(f"{self.name} is down")
        self.events.append(event)
        return (self.name,)


class FakeTokens:
    """Tokens are `tok:<channel>` or `tok:<channel>:<conversation>`; anything else is invalid."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def issue(self, channel: str, conversation_id: str | None = None) -> tuple[str, datetime]:
        suffix = f":{conversation_id}" if conversation_id else ""
        return f"tok:{channel}{suffix}", self.clock.now() + timedelta(hours=1)

    def channel_of(self, token: str) -> str:
        return self._parts(token)[0]

    def conversation_of(self, token: str) -> str | None:
        return self._parts(token)[1]

    def _parts(self, token: str) -> tuple[str, str | None]:
        if not token.startswith("tok:"):
            raise InvalidToken("bad token")
        channel, _, conversation = token[4:].partition(":")
        return channel, conversation or None


class FakeViewerGrants:
    """Grants are `grant:<demo>:<conversation>`; anything else is invalid."""

    def issue(self, demo_id: str, conversation_id: str, ttl_s: int) -> tuple[str, datetime]:
        return f"grant:{demo_id}:{conversation_id}", datetime(2030, 1, 1, tzinfo=UTC)

    def verify(self, grant: str) -> ViewerGrant:
        kind, _, rest = grant.partition(":")
        demo_id, _, conversation_id = rest.partition(":")
        if kind != "grant" or not demo_id or not conversation_id:
            raise InvalidToken("bad grant")
        return ViewerGrant(demo_id, conversation_id)


class FixedPolicy:
    def __init__(self, transport: Transport = Transport.WEBSOCKET) -> None:
        self.transport = transport

    def transport_for(self, channel: str) -> Transport:
        return self.transport


class FakeAgent:
    """AgentConversations and PersonaTools in memory: personas with their tools by name, conversations,
    and an error to raise on the next calls (`fail_with`)."""

    def __init__(self) -> None:
        self.personas: dict[str, dict[str, PersonaTool]] = {}
        self.started: list[ConversationRequest] = []
        self.ended: list[str] = []
        self.fail_with: DomainError | None = None
        self.calls = 0

    def _call(self) -> None:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with

    async def start(self, request: ConversationRequest) -> StartedConversation:
        self._call()
        self.started.append(request)
        conversation_id = f"c{len(self.started):06d}"
        return StartedConversation(conversation_id, f"https://tavus.daily.co/{conversation_id}", "active")

    async def end(self, conversation_id: str) -> None:
        self._call()
        self.ended.append(conversation_id)

    async def install(self, persona_id: str, tool: PersonaTool) -> None:
        self._call()
        self.personas.setdefault(persona_id, {})[tool.name] = tool

    async def uninstall(self, persona_id: str, tool_name: str) -> None:
        self._call()
        self.personas.get(persona_id, {}).pop(tool_name, None)


class FakeSyncQueue:
    """PersonaSyncQueue's rules in memory: `change()` is what the database triggers do."""

    def __init__(self) -> None:
        self.version: dict[str, int] = {}
        self.state: dict[str, str] = {}
        self.due_at: dict[str, datetime] = {}
        self.attempts: dict[str, int] = {}
        self.errors: dict[str, str | None] = {}
        self.synced_persona: dict[str, str | None] = {}
        self.leased: set[str] = set()

    def change(self, demo_id: str, at: datetime) -> None:
        self.version[demo_id] = self.version.get(demo_id, 0) + 1
        self.state[demo_id] = "pending"
        self.due_at[demo_id] = at
        self.attempts[demo_id] = 0
        self.errors[demo_id] = None

    def _task(self, demo_id: str) -> SyncTask:
        self.leased.add(demo_id)
        return SyncTask(
            demo_id, self.version[demo_id], self.attempts[demo_id], self.synced_persona.get(demo_id)
        )

    async def take_due(self, now: datetime, limit: int, lease_s: float) -> Sequence[SyncTask]:
        due = [
            d
            for d, state in self.state.items()
            if state != "synced" and self.due_at[d] <= now and d not in self.leased
        ]
        return [self._task(d) for d in sorted(due, key=self.due_at.__getitem__)[:limit]]

    async def take(self, demo_id: str, now: datetime, lease_s: float) -> SyncTask | None:
        if demo_id not in self.version or demo_id in self.leased:
            return None
        return self._task(demo_id)

    async def succeeded(self, task: SyncTask, persona_id: str | None, at: datetime) -> None:
        self.leased.discard(task.demo_id)
        self.synced_persona[task.demo_id] = persona_id
        if self.version[task.demo_id] == task.version:
            self.state[task.demo_id], self.errors[task.demo_id] = "synced", None
            self.attempts[task.demo_id] = 0

    async def failed(self, task: SyncTask, error: str, retry_at: datetime) -> None:
        self.leased.discard(task.demo_id)
        if self.version[task.demo_id] == task.version:
            self.state[task.demo_id], self.errors[task.demo_id] = "failed", error
            self.attempts[task.demo_id] += 1
            self.due_at[task.demo_id] = retry_at


class FakeSlots:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, object]] = {}

    async def reserve(self, demo_id: str, limit: int, ends_by: datetime) -> str | None:
        if sum(1 for r in self.rows.values() if r["status"] != "ended") >= limit:
            return None
        reservation = str(uuid.uuid4())
        self.rows[reservation] = {"demo_id": demo_id, "status": "starting", "ends_by": ends_by, "id": None}
        return reservation

    async def activate(self, reservation: str, conversation_id: str) -> None:
        self.rows[reservation].update(status="active", id=conversation_id)

    async def release(self, reservation: str) -> None:
        if self.rows.get(reservation, {}).get("status") == "starting":
            del self.rows[reservation]

    async def finish(self, conversation_id: str) -> None:
        for row in self.rows.values():
            if row["id"] == conversation_id:
                row["status"] = "ended"

    async def overdue(self, now: datetime, stale_start_s: float) -> Sequence[tuple[str, str]]:
        return [
            (str(r["id"]), str(r["demo_id"]))
            for r in self.rows.values()
            if r["status"] == "active" and r["ends_by"] < now  # type: ignore[operator]
        ]

    async def started_here(self, conversation_id: str) -> bool:
        return any(r["id"] == conversation_id for r in self.rows.values())

    @property
    def open(self) -> int:
        return sum(1 for r in self.rows.values() if r["status"] != "ended")


class FakeCallbackTokens:
    def issue(self, demo_id: str) -> str:
        return f"cb-{demo_id}"


def _fakes_implement_the_ports(clock: FakeClock) -> None:
    """Never called: mypy checks here that each fake still satisfies the port it stands in for."""
    catalog: DemoCatalog = FakeCatalog()
    editor: CatalogEditor = FakeCatalog()
    store: VideoStore = FakeVideoStore()
    probe: MediaProbe = FakeProbe()
    history: PlayHistory = FakePlayHistory()
    realtime_tokens: RealtimeTokens = FakeRealtimeTokens(clock)
    grants: ViewerGrants = FakeViewerGrants()
    conversations: ConversationDirectory = FakeConversations()
    ledger: DeliveryLedger = FakeLedger(clock)
    urls: VideoUrls = FakeVideoUrls(clock)
    notifier: Notifier = FakeNotifier()
    tokens: ChannelTokens = FakeTokens(clock)
    policy: TransportPolicy = FixedPolicy()
    ticking: Clock = clock
    agent: AgentConversations = FakeAgent()
    persona_tools: PersonaTools = FakeAgent()
    queue: PersonaSyncQueue = FakeSyncQueue()
    slots: ConversationSlots = FakeSlots()
    callback_tokens: CallbackTokens = FakeCallbackTokens()
    del (
        agent,
        persona_tools,
        queue,
        slots,
        callback_tokens,
        history,
        grants,
        catalog,
        editor,
        store,
        probe,
        realtime_tokens,
        conversations,
        ledger,
        urls,
        notifier,
        tokens,
        policy,
        ticking,
    )
