-- Every instance keeps in-process copies of what the webhook's hot path reads (a conversation's demo, a
-- demo's videos by title: adapters/postgres/catalog_cache.py). Whatever changes them, through whichever
-- instance or tool, says so on channel demo_relay_catalog with the demo's id; the instances drop that demo.
-- NOTIFY is sent at commit and folds repeats of one payload within a transaction.
create or replace function demo_relay_catalog_changed() returns trigger
language plpgsql as $$
begin
    if tg_table_name = 'demos' then
        perform pg_notify('demo_relay_catalog', old.id::text);
    elsif tg_op = 'INSERT' then
        perform pg_notify('demo_relay_catalog', new.demo_id::text);
    else
        perform pg_notify('demo_relay_catalog', old.demo_id::text);
        if tg_op = 'UPDATE' and old.demo_id is distinct from new.demo_id then
            perform pg_notify('demo_relay_catalog', new.demo_id::text);
        end if;
    end if;
    return null;
end;
$$;

create trigger demo_videos_catalog_changed
    after insert or update or delete on demo_videos
    for each row execute function demo_relay_catalog_changed();

create trigger demos_catalog_changed
    after update or delete on demos
    for each row execute function demo_relay_catalog_changed();

create trigger conversations_catalog_changed
    after update of demo_id or delete on conversations
    for each row execute function demo_relay_catalog_changed();
