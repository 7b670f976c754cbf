"""The private-channel migrations (migrations/*_realtime_*.sql) on a real Postgres.

On a plain Postgres it is a no-op (every other test migrates one). Here the database first gets the part
of Supabase the policy relies on, as Supabase defines it: the `anon`/`authenticated` roles, `auth.jwt()`
(the request's JWT claims), and Realtime's `realtime.messages` table with `realtime.topic()`. Then we
authorise a join the way Supabase Realtime does: as role `authenticated`, with the viewer's claims in
`request.jwt.claims` and the channel in `realtime.topic`, select the broadcast message rows of the topic
in a transaction that is rolled back; a visible row means the viewer may receive the channel.

Proves: a viewer receives the topic its token names (its conversation's `demo-<id>:<conversation>`; an
owner's, the demo's `demo-<id>`) and nothing else: not another conversation of the same demo, not the
demo-wide topic, not another demo, not a topic of another shape, not presence; without the claim nothing;
`anon` nothing; and a demo that does not exist is refused even with a matching claim."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from demo_relay.adapters.postgres.migrator import migrate

SUPABASE_LIKE = """
do $$ begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin; end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin;
    end if;
end $$;
create schema auth;
create function auth.jwt() returns jsonb language sql stable as $$
    select coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                    nullif(current_setting('request.jwt.claims', true), ''))::jsonb
$$;
create schema realtime;
create table realtime.messages (
    id uuid primary key default gen_random_uuid(),
    topic text not null,
    extension text not null,
    payload jsonb,
    event text,
    private boolean default false,
    inserted_at timestamp not null default now()
);
alter table realtime.messages enable row level security;
create function realtime.topic() returns text language sql stable as $$
    select nullif(current_setting('realtime.topic', true), '')::text
$$;
grant usage on schema auth, realtime to anon, authenticated;
grant execute on all functions in schema auth, realtime to anon, authenticated;
grant select, insert on realtime.messages to anon, authenticated;
grant usage on schema public to anon, authenticated;
"""


@pytest.fixture
async def supabase_like(empty_database_url: str) -> tuple[str, str]:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute(SUPABASE_LIKE)
    finally:
        await conn.close()
    await migrate(empty_database_url)
    conn = await asyncpg.connect(empty_database_url)
    try:
        demo_id = await conn.fetchval("insert into demos (name) values ('Tour') returning id::text")
    finally:
        await conn.close()
    return empty_database_url, demo_id


async def may_receive(
    dsn: str, role: str, claims: dict[str, object] | None, topic: str, extension: str
) -> bool:
    """Realtime's read check: can `role` with `claims` see a `topic` message row under RLS?"""
    conn = await asyncpg.connect(dsn)
    try:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.execute(
                "insert into realtime.messages (topic, extension, private) values ($1, $2, true)",
                topic,
                extension,
            )
            await conn.execute("select set_config('request.jwt.claims', $1, true)", json.dumps(claims or {}))
            await conn.execute("select set_config('realtime.topic', $1, true)", topic)
            await conn.execute(f"set local role {role}")
            count = await conn.fetchval(
                "select count(*) from realtime.messages where topic = $1 and extension = $2", topic, extension
            )
            return bool(count)
        finally:
            await transaction.rollback()
    finally:
        await conn.close()


def viewer(topic: str) -> dict[str, object]:
    return {"role": "authenticated", "sub": str(uuid.uuid4()), "demo_relay_topic": topic}


async def test_a_viewer_receives_only_its_own_conversation(supabase_like: tuple[str, str]) -> None:
    dsn, demo_id = supabase_like
    channel = f"demo-{demo_id}"
    mine, theirs = f"{channel}:c-mine", f"{channel}:c-theirs"
    assert await may_receive(dsn, "authenticated", viewer(mine), mine, "broadcast")
    assert not await may_receive(dsn, "authenticated", viewer(mine), theirs, "broadcast")
    assert not await may_receive(dsn, "authenticated", viewer(mine), channel, "broadcast")
    assert not await may_receive(
        dsn, "authenticated", viewer(mine), f"demo-{uuid.uuid4()}:c-mine", "broadcast"
    )
    assert not await may_receive(dsn, "authenticated", viewer(mine), mine, "presence")


async def test_an_owner_token_receives_the_demo_wide_topic(supabase_like: tuple[str, str]) -> None:
    dsn, demo_id = supabase_like
    channel = f"demo-{demo_id}"
    assert await may_receive(dsn, "authenticated", viewer(channel), channel, "broadcast")
    other = f"demo-{uuid.uuid4()}"
    assert not await may_receive(dsn, "authenticated", viewer(channel), other, "broadcast")
    assert not await may_receive(dsn, "authenticated", viewer(channel), f"{channel}:c1", "broadcast")
    assert not await may_receive(dsn, "authenticated", viewer("room-1"), "room-1", "broadcast")
    # A claim that only looks like the demo's prefix is not the demo.
    assert not await may_receive(dsn, "authenticated", viewer(channel + "x"), channel + "x", "broadcast")


async def test_no_claim_anon_or_unknown_demo_receive_nothing(supabase_like: tuple[str, str]) -> None:
    dsn, demo_id = supabase_like
    channel = f"demo-{demo_id}"
    assert not await may_receive(dsn, "authenticated", {"role": "authenticated"}, channel, "broadcast")
    assert not await may_receive(dsn, "anon", viewer(channel), channel, "broadcast")
    ghost = f"demo-{uuid.uuid4()}"
    assert not await may_receive(dsn, "authenticated", viewer(ghost), ghost, "broadcast")


async def test_the_migration_is_a_no_op_without_supabase(empty_database_url: str) -> None:
    await migrate(empty_database_url)
    conn = await asyncpg.connect(empty_database_url)
    try:
        policies = await conn.fetchval(
            "select count(*) from pg_policies where policyname like 'demo_relay_%'"
        )
    finally:
        await conn.close()
    assert policies == 0
