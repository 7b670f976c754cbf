"""HUB_BACKEND=redis (`REDIS_URL`): the same contract as the Postgres hub, for those who run Redis anyway.

Publishing runs one Lua script, atomic in Redis: the channel's next sequence number (INCR), the event into
the channel's stream under the id `<seq>-0` (XADD, trimmed to about STREAM_MAX_LEN), its frame id → seq (for
`?since=`), and the broadcast (PUBLISH on one pub/sub channel every instance subscribes to). One script at a
time, so per channel the sequence is the publication order and the broadcast order. Every instance
(`RedisHubRelay`) subscribes on a connection of its own and hands each broadcast to its local hub through
the shared relay (relay.py): in order, once, gaps and reconnects caught up from the streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from demo_relay.adapters.notifiers.relay import HubRelay, StoredEvent
from demo_relay.adapters.notifiers.websocket_hub import WebSocketHub, encode_frame
from demo_relay.domain.errors import TransportUnavailable
from demo_relay.domain.models import UNKNOWN_DURATION_CURRENT_S, ChannelEvent, EventName

BROADCAST = "demo_relay_events"
PREFIX = "demo-relay:"
STREAM_MAX_LEN = 10_000  # per channel: far more than a late-join window's worth
MAX_INLINE_FRAME_BYTES = 64_000
CURRENT_SCAN = 200  # how far back a late joiner's current video is looked for

# KEYS: seq counter, stream, ids hash. ARGV: event, conversation ('' = none), frame, until ('' = none),
# event id, max len, inline frame ('' = by reference), channel, retention seconds.
_APPEND = (
    """
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], seq .. '-0',
  'e', ARGV[1], 'v', ARGV[2], 'f', ARGV[3], 'u', ARGV[4], 'i', ARGV[5])
redis.call('HSET', KEYS[3], ARGV[5], seq)
redis.call('EXPIRE', KEYS[3], ARGV[9])
redis.call('EXPIRE', KEYS[2], ARGV[9])
local note = {c = ARGV[8], s = seq, e = ARGV[1]}
if ARGV[2] ~= '' then note['v'] = ARGV[2] end
if ARGV[4] ~= '' then note['u'] = ARGV[4] end
if ARGV[7] ~= '' then note['f'] = ARGV[7] end
redis.call('PUBLISH', '"""
    + BROADCAST
    + """', cjson.encode(note))
return seq
"""
)


def _keys(channel: str) -> tuple[str, str, str]:
    return f"{PREFIX}seq:{channel}", f"{PREFIX}log:{channel}", f"{PREFIX}ids:{channel}"


def _entries(raw: Any) -> list[StoredEvent]:
    """XRANGE / XREVRANGE answers ([(id, fields), …]) as stored events."""
    return [_stored(entry_id, fields or {}) for entry_id, fields in raw or []]


def _stored(entry_id: Any, fields: dict[Any, Any]) -> StoredEvent:
    def text(key: str) -> str:
        value = fields.get(key) if key in fields else fields.get(key.encode(), b"")
        return value.decode() if isinstance(value, bytes) else str(value or "")

    seq = int((entry_id.decode() if isinstance(entry_id, bytes) else entry_id).split("-")[0])
    until = text("u")
    return StoredEvent(
        seq,
        text("e"),
        text("v") or None,
        text("f"),
        datetime.fromisoformat(until) if until else None,
        text("i"),
    )


def _visible(follows: str | None, conversation_id: str | None) -> bool:
    return follows is None or conversation_id is None or follows == conversation_id


class RedisEventLog:
    """The channel streams: append (and broadcast), replay, current video."""

    def __init__(
        self,
        url: str,
        retention_s: float = 30 * 86400,
        default_current_s: float = UNKNOWN_DURATION_CURRENT_S,
    ) -> None:
        self._url = url
        self._retention_s = int(retention_s)
        self._default_current_s = default_current_s
        self._client: aioredis.Redis | None = None

    @property
    def client(self) -> aioredis.Redis:
        """Made on first use, inside the loop that uses it; closed by aclose()."""
        if self._client is None:
            self._client = aioredis.from_url(self._url, socket_timeout=10, socket_connect_timeout=5)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def append(self, event: ChannelEvent) -> int:
        frame = encode_frame(event)
        conversation = event.payload.get("conversation_id")
        conversation_id = conversation if isinstance(conversation, str) and conversation else ""
        sent_at = event.sent_at if event.sent_at.tzinfo else event.sent_at.replace(tzinfo=UTC)
        until = ""
        if event.event == EventName.PLAY_VIDEO:
            window = self._default_current_s if event.current_for_s is None else event.current_for_s
            until = (sent_at + timedelta(seconds=window)).isoformat()
        inline = frame if len(frame.encode()) <= MAX_INLINE_FRAME_BYTES else ""
        try:
            seq = await self.client.eval(
                _APPEND,
                3,
                *_keys(event.channel),
                str(event.event),
                conversation_id,
                frame,
                until,
                event.id,
                STREAM_MAX_LEN,
                inline,
                event.channel,
                self._retention_s,
            )
        except (RedisError, OSError) as exc:
            raise TransportUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc
        return int(seq)

    async def _range(self, channel: str, first: int, last: int | str) -> list[StoredEvent]:
        end = last if isinstance(last, str) else f"{last}-0"
        return _entries(await self.client.xrange(_keys(channel)[1], min=f"{first}-0", max=end))

    async def after(self, channel: str, conversation_id: str | None, seq: int) -> list[StoredEvent]:
        return [
            e
            for e in await self._range(channel, seq + 1, "+")
            if _visible(conversation_id, e.conversation_id)
        ]

    async def gap(self, channel: str, after_seq: int, up_to_seq: int) -> list[StoredEvent]:
        return await self._range(channel, after_seq + 1, up_to_seq)

    async def head(self, channel: str) -> int:
        try:
            value = await self.client.get(_keys(channel)[0])
        except (RedisError, OSError) as exc:
            raise TransportUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc
        return int(value or 0)

    async def catch_up(
        self, channel: str, conversation_id: str | None, since: str | None, now: datetime
    ) -> list[StoredEvent]:
        try:
            if since:
                seq = await self.client.hget(_keys(channel)[2], since)
                if seq is not None:
                    return await self.after(channel, conversation_id, int(seq))
            recent = await self.client.xrevrange(_keys(channel)[1], count=CURRENT_SCAN)
        except (RedisError, OSError) as exc:
            raise TransportUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc
        ended: set[str | None] = set()
        for stored in _entries(recent):  # newest first
            if stored.event == EventName.SESSION_ENDED:
                ended.add(stored.conversation_id)
            elif (
                stored.event == EventName.PLAY_VIDEO
                and _visible(conversation_id, stored.conversation_id)
                and stored.conversation_id not in ended
                and stored.current_until is not None
                and stored.current_until > now
            ):
                return [stored]
        return []

    async def purge(self, before: datetime) -> int:
        """Streams trim themselves (MAXLEN) and expire after the retention without events."""
        return 0


class RedisHubNotifier:
    """The Notifier of the `websocket` transport with HUB_BACKEND=redis."""

    name = "websocket"

    def __init__(self, log: RedisEventLog) -> None:
        self._log = log

    async def publish(self, event: ChannelEvent) -> tuple[str, ...]:
        await self._log.append(event)
        return (self.name,)


class RedisHubRelay(HubRelay):
    """This instance's pub/sub subscription, on a connection of its own."""

    def __init__(self, url: str, log: RedisEventLog, hub: WebSocketHub, *, keepalive_s: float = 5.0) -> None:
        super().__init__(log, hub)
        self._url = url
        self._keepalive_s = keepalive_s

    async def listen_once(self) -> None:
        client = aioredis.from_url(
            self._url, socket_connect_timeout=5, health_check_interval=self._keepalive_s
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(BROADCAST)
            async with self.listening():
                while True:
                    message = await pubsub.get_message(timeout=self._keepalive_s)
                    if message is None:
                        await pubsub.ping()  # a silent drop surfaces here as an error
                        continue
                    if message.get("type") != "message":
                        continue  # the pong
                    data = message.get("data")
                    self.notified(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            await pubsub.aclose()
            await client.aclose()
