-- demo-relay: the event log of HUB_BACKEND=postgres (several instances behind one load balancer).
--
-- Every event published on a channel is stored with a per-channel sequence number, assigned under the
-- channel's head row lock in the transaction that stores it and NOTIFYs it: the lock is held until commit,
-- so per channel the sequence order is the commit order, and NOTIFY delivers in commit order. Instances fan
-- out the notifications to their own sockets; the log lets a LISTEN connection that dropped recover the gap,
-- a page that reconnects with `?since=<frame id>` get exactly what it missed, and a late joiner on any
-- instance get the current video. Rows are kept at least for the late-join window and are purged with the
-- webhook_events retention.

create table channel_heads (
    channel  text primary key,
    last_seq bigint not null
);

create table channel_events (
    channel         text not null,
    seq             bigint not null,
    event_id        text not null,
    event           text not null,
    conversation_id text,
    frame           text not null,        -- the exact JSON text frame subscribers receive
    sent_at         timestamptz not null,
    current_until   timestamptz,          -- play_video: until when a late joiner still gets it
    stored_at       timestamptz not null default now(),
    primary key (channel, seq)
);

-- `?since=<frame id>`: from the id to its sequence number.
create index channel_events_event_id_idx on channel_events (channel, event_id);
-- Retention purges by age.
create index channel_events_stored_at_idx on channel_events (stored_at);

alter table channel_heads enable row level security;
alter table channel_events enable row level security;
