-- demo-relay: private Realtime channels (REALTIME_PRIVATE=true). Supabase only.
--
-- Supabase Realtime authorises a join to a private channel by running a SELECT on realtime.messages as
-- the joining user (role `authenticated`, their JWT's claims in `request.jwt.claims`, the channel's topic
-- in `realtime.topic()`); a row visible under RLS means "may receive". demo-relay hands each page a
-- short-lived Realtime token (signed with the project's JWT secret) whose `demo_relay_channel` claim names
-- the one `demo-<id>` channel of its session.
--
-- "Demos they may see" is decided by RLS on public.demos: by default a viewer sees the demo its token
-- names (policy below); a project can add its own SELECT policies on demos (team membership, say) and
-- the Realtime policy follows them, because its EXISTS runs under the viewer's RLS.
--
-- On a plain Postgres (no `realtime` schema, no `authenticated` role) this migration does nothing, so the
-- same migrations run everywhere.

do $migration$
begin
    if to_regclass('realtime.messages') is null
       or not exists (select 1 from pg_roles where rolname = 'authenticated') then
        raise notice 'demo-relay: no Supabase Realtime here; private channel policies skipped';
        return;
    end if;

    execute $sql$
        drop policy if exists demo_relay_viewer_reads_own_demo on public.demos
    $sql$;
    execute $sql$
        create policy demo_relay_viewer_reads_own_demo on public.demos
            for select to authenticated
            using ('demo-' || id::text = (select auth.jwt() ->> 'demo_relay_channel'))
    $sql$;
    execute $sql$ grant select on public.demos to authenticated $sql$;

    execute $sql$
        drop policy if exists demo_relay_receive_demo_broadcasts on realtime.messages
    $sql$;
    execute $sql$
        create policy demo_relay_receive_demo_broadcasts on realtime.messages
            for select to authenticated
            using (
                realtime.messages.extension = 'broadcast'
                and (select realtime.topic()) like 'demo-%'
                and exists (
                    select 1 from public.demos d where 'demo-' || d.id::text = (select realtime.topic())
                )
            )
    $sql$;
end
$migration$;
