"""HUB_BACKEND=postgres: one hub across every instance that shares the database.

Publishing (`PostgresHubNotifier`) stores the event in `channel_events` with the next sequence number of its
channel (under the channel head's row lock, so per channel the sequence is the commit order) and NOTIFYs it
in the same transaction; a payload over NOTIFY's 8,000-byte limit is passed by reference (channel + seq).
Every instance (`PostgresHubRelay`) LISTENs on a connection of its own, never a pooled one, and hands each
notification to its local WebSocketHub, which fans it out to that instance's sockets. Per channel the relay
knows the last sequence it delivered: a repeat is dropped, a gap is filled from the log first, so every
subscriber gets every event once and in order. A LISTEN connection that drops is re-established with
backoff and re-LISTENed; the events of the gap are read from the log for every channel with subscribers here.

The log (`PostgresEventLog`) also answers a page that reconnects with `?since=<frame id>` (exactly the events
after it, as its conversation may see them) and a late joiner (the current video of its conversation), on
whichever instance it lands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg

from demo_relay.adapters.notifiers.relay import HubRelay, StoredEvent, note_around_seq
from demo_relay.adapters.notifiers.websocket_hub import WebSocketHub, encode_frame
from demo_relay.adapters.postgres.database import Database
from demo_relay.adapters.postgres.listen import listening
from demo_relay.adapters.postgres.pool import translate_errors
from demo_relay.domain.errors import TransportUnavailable
from demo_relay.domain.models import UNKNOWN_DURATION_CURRENT_S, ChannelEvent, EventName

if TYPE_CHECKING:
    from demo_relay.adapters.postgres.pool import PgPool


NOTIFY_CHANNEL = "demo_relay_events"
# NOTIFY payloads must stay under 8,000 bytes; a larger event goes by reference (the relay reads the log).
MAX_NOTIFY_BYTES = 7900
LISTEN_APPLICATION_NAME = "demo-relay-listen"
MAX_SEQ_DIGITS = 19  # a bigint

# One statement, one round trip: the next sequence number under the channel head's row lock (held until this
# statement commits, so per channel the sequence is the commit order), the event stored, and the NOTIFY
# (sent at commit) whose text is the note the caller built around the sequence number ($8 || seq || $9).
_APPEND = """
with head as (
    insert into channel_heads as h (channel, last_seq) values ($1, 1)
    on conflict (channel) do update set last_seq = h.last_seq + 1
    returning last_seq),
stored as (
    insert into channel_events (channel, seq, event_id, event, conversation_id, frame, sent_at, current_until)
    select $1, last_seq, $2, $3, $4, $5, $6, $7 from head
    returning seq)
select seq, pg_notify('demo_relay_events', $8 || seq::text || $9) from stored"""

_COLUMNS = "seq, event, conversation_id, frame, current_until, event_id"

# What a subscriber following $2 (null: every conversation) may see: its conversation's and those of none.
_VISIBLE = "($2::text is null or e.conversation_id is null or e.conversation_id = $2)"

_AFTER = f"""
select {_COLUMNS} from channel_events e
where e.channel = $1 and e.seq > $3 and {_VISIBLE}
order by e.seq"""  # noqa: S608 (constants only)

_GAP = f"""
select {_COLUMNS} from channel_events e
where e.channel = $1 and e.seq > $2 and e.seq <= $3
order by e.seq"""  # noqa: S608 (constants only)

# The late joiner's video: the newest play_video it may see that is still current and whose conversation
# has not ended since.
_CURRENT = f"""
select {_COLUMNS} from channel_events e
where e.channel = $1 and e.event = 'play_video' and e.current_until > $3 and {_VISIBLE}
  and not exists (
      select 1 from channel_events x
      where x.channel = e.channel and x.seq > e.seq and x.event = 'session_ended'
        and x.conversation_id is not distinct from e.conversation_id)
order by e.seq desc
limit 1"""  # noqa: S608 (constants only)


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        row["seq"], row["event"], row["conversation_id"], row["frame"], row["current_until"], row["event_id"]
    )


class PostgresEventLog:
    """The channel event log: append (and NOTIFY), replay, current video, retention."""

    def __init__(self, database: Database, default_current_s: float = UNKNOWN_DURATION_CURRENT_S) -> None:
        # The database, not its pool: the notifier is built at start (to fail early on bad settings),
        # before the pool opens.
        self._database = database
        self._default_current_s = default_current_s

    @property
    def _pool(self) -> PgPool:
        return self._database.pool

    async def append(self, event: ChannelEvent) -> int:
        frame = encode_frame(event)
        conversation = event.payload.get("conversation_id")
        conversation_id = conversation if isinstance(conversation, str) and conversation else None
        sent_at = event.sent_at if event.sent_at.tzinfo else event.sent_at.replace(tzinfo=UTC)
        until = None
        if event.event == EventName.PLAY_VIDEO:
            window = self._default_current_s if event.current_for_s is None else event.current_for_s
            until = sent_at + timedelta(seconds=window)
        # The note with the longest sequence number there can be: if that fits, the real one does.
        before, after = note_around_seq(event.channel, str(event.event), conversation_id, until, frame)
        if len(before.encode()) + len(after.encode()) + MAX_SEQ_DIGITS > MAX_NOTIFY_BYTES:
            before, after = note_around_seq(event.channel, str(event.event), conversation_id, until, None)
        async with translate_errors():
            seq: int = await self._pool.fetchval(
                _APPEND,
                event.channel,
                event.id,
                str(event.event),
                conversation_id,
                frame,
                sent_at,
                until,
                before,
                after,
            )
        return seq

    async def after(self, channel: str, conversation_id: str | None, seq: int) -> list[StoredEvent]:
        """The events after `seq` a subscriber following `conversation_id` may see, in order."""
        async with translate_errors():
            rows = await self._pool.fetch(_AFTER, channel, conversation_id, seq)
        return [_stored(row) for row in rows]

    async def gap(self, channel: str, after_seq: int, up_to_seq: int) -> list[StoredEvent]:
        async with translate_errors():
            rows = await self._pool.fetch(_GAP, channel, after_seq, up_to_seq)
        return [_stored(row) for row in rows]

    async def head(self, channel: str) -> int:
        async with translate_errors():
            value = await self._pool.fetchval(
                "select last_seq from channel_heads where channel = $1", channel
            )
        return int(value or 0)

    async def seq_of(self, channel: str, event_id: str) -> int | None:
        """The sequence number of a frame id on the channel (the latest, if a retried delivery stored it
        twice); None when the log does not have it (unknown, or purged)."""
        if "\x00" in event_id:  # Postgres text cannot hold NUL: no frame has such an id
            return None
        async with translate_errors():
            value = await self._pool.fetchval(
                "select max(seq) from channel_events where channel = $1 and event_id = $2", channel, event_id
            )
        return None if value is None else int(value)

    async def current(self, channel: str, conversation_id: str | None, now: datetime) -> StoredEvent | None:
        async with translate_errors():
            row = await self._pool.fetchrow(_CURRENT, channel, conversation_id, now)
        return None if row is None else _stored(row)

    async def catch_up(
        self, channel: str, conversation_id: str | None, since: str | None, now: datetime
    ) -> list[StoredEvent]:
        """What a subscriber gets before the live events: with a known `since`, exactly the events after
        it; otherwise (none, unknown or purged) the current video, as a late joiner."""
        if since:
            seq = await self.seq_of(channel, since)
            if seq is not None:
                return await self.after(channel, conversation_id, seq)
        current = await self.current(channel, conversation_id, now)
        return [] if current is None else [current]

    async def purge(self, before: datetime) -> int:
        async with translate_errors():
            status = await self._pool.execute("delete from channel_events where stored_at < $1", before)
        return int(status.split()[-1])


class PostgresHubNotifier:
    """The Notifier of the `websocket` transport with HUB_BACKEND=postgres: into the log, NOTIFY'd to every
    instance (this one included: its relay delivers to its sockets like any other's)."""

    name = "websocket"

    def __init__(self, log: PostgresEventLog) -> None:
        self._log = log

    async def publish(self, event: ChannelEvent) -> tuple[str, ...]:
        try:
            await self._log.append(event)
        except TransportUnavailable:
            raise
        except Exception as exc:  # the database is away: nothing was stored or sent
            raise TransportUnavailable(f"the event log is unavailable: {type(exc).__name__}") from exc
        return (self.name,)


class PostgresHubRelay(HubRelay):
    """This instance's LISTEN connection (its own, never a pooled one)."""

    def __init__(
        self, dsn: str, log: PostgresEventLog, hub: WebSocketHub, *, keepalive_s: float = 5.0
    ) -> None:
        super().__init__(log, hub)
        self._dsn = dsn
        self._keepalive_s = keepalive_s
        self.backend_pid: int | None = None

    async def listen_once(self) -> None:
        async with listening(self._dsn, NOTIFY_CHANNEL, self._on_notify, LISTEN_APPLICATION_NAME) as held:
            self.backend_pid = held.conn.get_server_pid()
            async with self.listening():
                await held.until_lost(self._keepalive_s)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        self.notified(str(payload))
