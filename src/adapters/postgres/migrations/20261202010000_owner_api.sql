-- demo-relay: what the owner API manages (DESIGN §11): a demo's settings, each video's size and type, and
-- the history of what played in which conversation.

alter table demos
    add column public_start     boolean not null default false,
    add column tavus_persona_id text check (tavus_persona_id <> ''),
    add column tavus_replica_id text check (tavus_replica_id <> '');

alter table demo_videos
    add column size_bytes   bigint check (size_bytes >= 0),
    add column content_type text check (content_type <> '');

-- One row per play_video that reached the demo's channel. `event_id` is the channel event's id, the same
-- for a tool call delivered twice (signed webhook and the page's bridge), so a play is recorded once.
-- The conversation may be unregistered (a `?demo_id=` webhook), hence no foreign key on it; deleting the
-- demo removes its plays, deleting a video keeps the play with its title.
create table video_plays (
    event_id        text primary key,
    demo_id         uuid not null references demos (id) on delete cascade,
    conversation_id text,
    video_id        uuid references demo_videos (id) on delete set null,
    title           text not null,
    played_at       timestamptz not null default now()
);

create index video_plays_demo_conversation_idx on video_plays (demo_id, conversation_id, played_at);
create index video_plays_video_id_idx on video_plays (video_id);

alter table video_plays enable row level security;
