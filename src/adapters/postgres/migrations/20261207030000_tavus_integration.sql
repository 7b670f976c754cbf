-- demo-relay: the Tavus integration. A demo's persona keeps a play_video tool that follows its titles
-- (persona sync, with its state on the demo), and the conversations this service starts itself hold one
-- of the deployment's concurrency slots until they end.

-- Persona sync. Every change that can change the persona's tool (a title added, renamed or removed; the
-- demo's persona or name) bumps `tavus_sync_version` and makes the sync due now, in the same statement as
-- the change (triggers below), so no path that writes the catalog (owner API, CLI, seeding) can forget it.
-- A sync attempt that started on an older version never marks the demo synced.
alter table demos
    add column tavus_sync_state        text not null default 'pending'
        check (tavus_sync_state in ('pending', 'synced', 'failed')),
    add column tavus_sync_version      bigint not null default 1,
    add column tavus_sync_error        text,
    add column tavus_synced_at         timestamptz,
    add column tavus_sync_attempts     integer not null default 0,
    add column tavus_sync_due_at       timestamptz not null default now(),
    add column tavus_sync_lease_until  timestamptz,
    -- The persona the tool was last installed on: when the demo moves to another persona, the old one
    -- loses our tool.
    add column tavus_synced_persona_id text;

-- The sync worker's queue: demos whose persona is not in step, by when they are due.
create index demos_tavus_sync_due_idx on demos (tavus_sync_due_at) where tavus_sync_state <> 'synced';

create function demo_relay_tavus_sync_due() returns trigger
language plpgsql as $$
begin
    update demos
    set tavus_sync_state = 'pending',
        tavus_sync_version = tavus_sync_version + 1,
        tavus_sync_due_at = now(),
        tavus_sync_attempts = 0,
        tavus_sync_error = null
    where id = case when tg_op = 'DELETE' then old.demo_id else new.demo_id end;
    return null;
end
$$;

create trigger demo_videos_tavus_sync_due
    after insert or delete or update of title on demo_videos
    for each row execute function demo_relay_tavus_sync_due();

create function demo_relay_tavus_persona_changed() returns trigger
language plpgsql as $$
begin
    new.tavus_sync_state := 'pending';
    new.tavus_sync_version := old.tavus_sync_version + 1;
    new.tavus_sync_due_at := now();
    new.tavus_sync_attempts := 0;
    new.tavus_sync_error := null;
    return new;
end
$$;

create trigger demos_tavus_persona_changed
    before update of tavus_persona_id, name on demos
    for each row
    when (old.tavus_persona_id is distinct from new.tavus_persona_id or old.name is distinct from new.name)
    execute function demo_relay_tavus_persona_changed();

-- Conversations this service started at Tavus. A row is written ('starting') before Tavus is asked, under
-- one advisory lock, so N concurrent starts across instances never exceed TAVUS_MAX_CONCURRENT; it becomes
-- 'active' with Tavus's conversation id, and 'ended' when the conversation ends (our end endpoint, Tavus's
-- system.shutdown, or the reaper once `ends_by` has passed).
create table agent_conversations (
    id              uuid primary key default gen_random_uuid(),
    demo_id         uuid not null references demos (id) on delete cascade,
    conversation_id text unique,
    status          text not null default 'starting' check (status in ('starting', 'active', 'ended')),
    created_at      timestamptz not null default now(),
    ends_by         timestamptz not null,
    ended_at        timestamptz
);

create index agent_conversations_open_idx on agent_conversations (ends_by) where status <> 'ended';
create index agent_conversations_demo_id_idx on agent_conversations (demo_id);

alter table agent_conversations enable row level security;
