-- demo-relay: private Realtime channels per conversation (REALTIME_PRIVATE=true). Supabase only.
--
-- Replaces the policies of 20261201120000_realtime_private_channels.sql. Realtime authorises a join by
-- topic and never looks at a message, so a viewer that may join `demo-<id>` would receive every
-- conversation of the demo. demo-relay therefore broadcasts each conversation's events on the
-- conversation's own topic `demo-<id>:<conversation_id>` (and on `demo-<id>`, for owners watching the
-- demo), and hands each page a short-lived Realtime token whose `demo_relay_topic` claim names the one
-- topic it may join: its conversation's for a viewer, the demo's for an owner.
--
-- A join is admitted when the topic is exactly the token's claim and belongs to a demo the holder may see
-- (RLS on public.demos: by default the demo its claim names; a project can add its own SELECT policies on
-- demos and the Realtime policy follows them, because its EXISTS runs under the holder's RLS).
--
-- On a plain Postgres (no `realtime` schema, no `authenticated` role) this migration does nothing.

do $migration$
begin
    if to_regclass('realtime.messages') is null
       or not exists (select 1 from pg_roles where rolname = 'authenticated') then
        raise notice 'demo-relay: no Supabase Realtime here; private channel policies skipped';
        return;
    end if;

    execute $sql$ drop policy if exists demo_relay_viewer_reads_own_demo on public.demos $sql$;
    execute $sql$ drop policy if exists demo_relay_receive_demo_broadcasts on realtime.messages $sql$;

    execute $sql$
        create policy demo_relay_viewer_reads_own_demo on public.demos
            for select to authenticated
            using (
                (select auth.jwt() ->> 'demo_relay_topic') = 'demo-' || id::text
                or starts_with((select auth.jwt() ->> 'demo_relay_topic'), 'demo-' || id::text || ':')
            )
    $sql$;
    execute $sql$ grant select on public.demos to authenticated $sql$;

    execute $sql$
        create policy demo_relay_receive_own_topic on realtime.messages
            for select to authenticated
            using (
                realtime.messages.extension = 'broadcast'
                and (select realtime.topic()) = (select auth.jwt() ->> 'demo_relay_topic')
                and exists (
                    select 1 from public.demos d
                    where (select realtime.topic()) = 'demo-' || d.id::text
                       or starts_with((select realtime.topic()), 'demo-' || d.id::text || ':')
                )
            )
    $sql$;
end
$migration$;
