-- demo-relay: initial schema. Plain SQL: runs on any Postgres 13+ and on Supabase.
--
-- Titles are compared case- and whitespace-insensitively through one expression, repeated verbatim in
-- the unique index and in the catalog's queries (src/adapters/postgres/catalog.py) so that the planner can
-- use the index:  lower(btrim(regexp_replace(title, '\s+', ' ', 'g')))
-- (every whitespace run, tabs and newlines included, becomes one space; then trim; then lower-case).

create extension if not exists pg_trgm;

create table demos (
    id         uuid primary key default gen_random_uuid(),
    name       text not null check (btrim(name) <> ''),
    created_at timestamptz not null default now()
);

create table demo_videos (
    id           uuid primary key default gen_random_uuid(),
    demo_id      uuid not null references demos (id) on delete cascade,
    title        text not null check (btrim(regexp_replace(title, '\s+', ' ', 'g')) <> ''),
    storage_path text not null check (storage_path <> ''),
    duration_s   double precision check (duration_s > 0),
    created_at   timestamptz not null default now()
);

-- One title per demo, however it is cased or spaced; also serves exact lookups and "videos of a demo".
create unique index demo_videos_demo_title_key
    on demo_videos (demo_id, lower(btrim(regexp_replace(title, '\s+', ' ', 'g'))));

-- Trigram index for fuzzy title search with pg_trgm's operators (% / <->) across demos.
create index demo_videos_title_trgm on demo_videos using gin (lower(title) gin_trgm_ops);

create table conversations (
    conversation_id  text primary key,
    demo_id          uuid not null references demos (id) on delete cascade,
    conversation_url text,
    status           text not null default 'active' check (status in ('active', 'ended')),
    created_at       timestamptz not null default now(),
    ended_at         timestamptz
);

-- Deleting a demo cascades here; without an index that is a sequential scan per deleted demo.
create index conversations_demo_id_idx on conversations (demo_id);

-- Webhook deliveries, for idempotency: a repeated dedupe key answers `duplicate` and sends nothing.
-- status: 'processing' while claimed, 'played' or 'recorded' when done, else the error code of the failure
-- (then `error` holds the message).
create table webhook_events (
    dedupe_key      text primary key,
    event_type      text not null,
    conversation_id text,
    status          text not null default 'processing' check (status <> ''),
    attempts        integer not null default 1,
    received_at     timestamptz not null default now(),
    claimed_at      timestamptz not null default now(),
    completed_at    timestamptz,
    payload         jsonb,
    error           text
);

-- On Supabase every table in `public` is reachable through the REST API with the anon key unless row
-- level security is on. Enabled with no policies, only the table owner (our server's role) and roles
-- that bypass RLS (service_role) can read or write; on a plain Postgres this changes nothing for us.
alter table demos enable row level security;
alter table demo_videos enable row level security;
alter table conversations enable row level security;
alter table webhook_events enable row level security;
