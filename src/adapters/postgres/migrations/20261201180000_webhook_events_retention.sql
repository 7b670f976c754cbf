-- demo-relay: webhook_events are kept for a bounded time (WEBHOOK_EVENTS_RETENTION_DAYS, `demo-relay purge`).
-- The purge selects by a delivery's last activity: its outcome, or its claim while it has none.
create index webhook_events_last_activity_idx on webhook_events ((coalesce(completed_at, claimed_at)));
