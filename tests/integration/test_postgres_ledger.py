"""AsyncpgDeliveryLedger on a real Postgres: a dedupe key is claimed by exactly one delivery, even when
twenty arrive at once on separate connections; a completed delivery stays a duplicate forever; a failed one
(outcome recorded, error truncated) can be claimed again with its attempts counted; a claim whose process
died is taken over once its lease has expired, and not before; payloads are stored as jsonb."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from demo_relay.adapters.postgres.ledger import AsyncpgDeliveryLedger
from demo_relay.adapters.postgres.pool import create_pool
from demo_relay.domain.ports import ClaimResult, DeliveryRecord

CLAIMED, DUPLICATE = ClaimResult.CLAIMED, ClaimResult.DUPLICATE


def record(key: str = "tc-1", payload: dict[str, object] | None = None) -> DeliveryRecord:
    return DeliveryRecord(
        dedupe_key=key,
        event_type="conversation.tool_call",
        conversation_id="c123",
        payload=payload if payload is not None else {"properties": {"name": "play_video"}},
    )


@pytest.fixture
def ledger(db_pool: asyncpg.Pool) -> AsyncpgDeliveryLedger:
    return AsyncpgDeliveryLedger(db_pool)


async def _row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    row = await pool.fetchrow("select * from webhook_events where dedupe_key = $1", key)
    assert row is not None
    return row


async def test_claim_then_duplicate(ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool):
    assert await ledger.claim(record()) is CLAIMED
    assert await ledger.claim(record()) is DUPLICATE  # in flight
    assert await ledger.claim(record("tc-2")) is CLAIMED  # another key is independent

    row = await _row(db_pool, "tc-1")
    assert (row["status"], row["attempts"], row["event_type"], row["conversation_id"]) == (
        "processing",
        1,
        "conversation.tool_call",
        "c123",
    )
    assert row["completed_at"] is None


async def test_payload_is_stored_as_jsonb(ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool):
    payload = {"properties": {"name": "play_video", "arguments": '{"video_title": "Intro"}'}, "seq": 3}
    await ledger.claim(record(payload=payload))
    assert await db_pool.fetchval("select jsonb_typeof(payload) from webhook_events") == "object"
    assert await db_pool.fetchval("select payload->'properties'->>'name' from webhook_events") == "play_video"
    assert json.loads(await db_pool.fetchval("select payload::text from webhook_events")) == payload

    await ledger.claim(DeliveryRecord("no-payload", "system.shutdown", None, None))
    assert (await _row(db_pool, "no-payload"))["payload"] is None


async def test_nul_characters_do_not_break_recording(ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool):
    """JSON allows \\u0000, Postgres text and jsonb do not: such a delivery is still recorded."""
    assert await ledger.claim(record("k\x00ey", payload={"title": "a\x00b", "x\x00": [1, "\x00"]})) is CLAIMED
    assert await ledger.claim(record("k\x00ey")) is DUPLICATE
    await ledger.fail("k\x00ey", "video_not_found", "no video titled 'a\x00b'")
    assert await ledger.claim(record("k\x00ey")) is CLAIMED


async def test_concurrent_claims_of_one_key_have_exactly_one_winner(database_url: str, db_pool: asyncpg.Pool):
    # 20 connections open before the race, so the 20 claims really run side by side.
    pool = await create_pool(database_url, min_size=20, max_size=20)
    try:
        ledger = AsyncpgDeliveryLedger(pool)
        for round_ in range(5):
            key = f"race-{round_}"
            results = await asyncio.gather(*(ledger.claim(record(key)) for _ in range(20)))
            assert results.count(CLAIMED) == 1, results
            assert results.count(DUPLICATE) == 19
            assert (await _row(db_pool, key))["attempts"] == 1
        # A released key is raced for again: still one winner.
        await ledger.fail("race-0", "storage_unavailable", "down")
        results = await asyncio.gather(*(ledger.claim(record("race-0")) for _ in range(20)))
        assert results.count(CLAIMED) == 1
        assert (await _row(db_pool, "race-0"))["attempts"] == 2
    finally:
        await pool.close()


async def test_failure_releases_the_claim(ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool):
    await ledger.claim(record())
    await ledger.fail("tc-1", "video_not_found", "no video titled 'Intro'")

    row = await _row(db_pool, "tc-1")
    assert (row["status"], row["error"]) == ("video_not_found", "no video titled 'Intro'")
    assert row["completed_at"] is not None

    assert await ledger.claim(record()) is CLAIMED  # the retry is evaluated afresh
    row = await _row(db_pool, "tc-1")
    assert (row["status"], row["attempts"], row["error"]) == ("processing", 2, None)
    assert row["completed_at"] is None
    assert await ledger.claim(record()) is DUPLICATE  # and is itself in flight now

    await ledger.fail("tc-1", "transport_unavailable", "")  # an empty message still records a failure
    assert await ledger.claim(record()) is CLAIMED
    assert (await _row(db_pool, "tc-1"))["attempts"] == 3


async def test_error_text_is_truncated(ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool):
    await ledger.claim(record())
    await ledger.fail("tc-1", "internal_error", "x" * 5000)
    assert len((await _row(db_pool, "tc-1"))["error"]) == 500


@pytest.mark.parametrize("status", ["played", "recorded"])
async def test_completed_is_duplicate_forever(
    ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool, status: str
):
    await ledger.claim(record())
    await ledger.complete("tc-1", status)

    row = await _row(db_pool, "tc-1")
    assert (row["status"], row["error"]) == (status, None)
    assert row["completed_at"] is not None
    assert await ledger.claim(record()) is DUPLICATE
    # long after any lease, too
    await db_pool.execute("update webhook_events set claimed_at = claimed_at - interval '30 days'")
    assert await ledger.claim(record()) is DUPLICATE
    assert (await _row(db_pool, "tc-1"))["attempts"] == 1


async def test_an_abandoned_claim_is_taken_over_after_the_lease(
    ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool
):
    """The process that claimed it died between claim and complete/fail: the row stays 'processing'."""
    await ledger.claim(record())
    await db_pool.execute("update webhook_events set claimed_at = now() - interval '119 seconds'")
    assert await ledger.claim(record()) is DUPLICATE  # default lease is 120 s: not yet

    await db_pool.execute("update webhook_events set claimed_at = now() - interval '121 seconds'")
    assert await ledger.claim(record()) is CLAIMED
    row = await _row(db_pool, "tc-1")
    assert (row["status"], row["attempts"]) == ("processing", 2)
    assert await ledger.claim(record()) is DUPLICATE  # the new claim has a fresh lease


async def test_lease_is_configurable(db_pool: asyncpg.Pool):
    ledger = AsyncpgDeliveryLedger(db_pool, lease_s=0.2)
    assert await ledger.claim(record()) is CLAIMED
    assert await ledger.claim(record()) is DUPLICATE
    await asyncio.sleep(0.3)
    assert await ledger.claim(record()) is CLAIMED


async def test_purge_forgets_by_last_activity_in_batches(
    ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("old-done", "old-failed", "old-stuck", "recent", "old-but-retried"):
        await ledger.claim(record(key))
    await ledger.complete("old-done", "played")
    await ledger.fail("old-failed", "video_not_found", "no such title")
    await ledger.complete("recent", "played")
    await ledger.complete("old-but-retried", "played")
    ages = {"old-done": 40, "old-failed": 40, "old-stuck": 40, "recent": 1, "old-but-retried": 2}
    for key, days in ages.items():
        await db_pool.execute(
            "update webhook_events set claimed_at = now() - make_interval(days => $2),"
            " completed_at = case when completed_at is null then null"
            " else now() - make_interval(days => $2) end,"
            " received_at = now() - interval '40 days' where dedupe_key = $1",
            key,
            days,
        )
    monkeypatch.setattr("demo_relay.adapters.postgres.ledger.PURGE_BATCH", 2)  # several batches
    cutoff = await db_pool.fetchval("select now() - interval '30 days'")
    assert await ledger.purge(cutoff) == 3
    left = {r["dedupe_key"] for r in await db_pool.fetch("select dedupe_key from webhook_events")}
    assert left == {"recent", "old-but-retried"}  # received long ago, but active within the retention
    assert await ledger.purge(cutoff) == 0


async def test_purge_never_forgets_a_claim_in_flight(
    ledger: AsyncpgDeliveryLedger, db_pool: asyncpg.Pool
) -> None:
    await ledger.claim(record("in-flight"))
    future = await db_pool.fetchval("select now() + interval '1 day'")
    assert await ledger.purge(future) == 0  # older than the cutoff, but within its lease
    assert await ledger.claim(record("in-flight")) is ClaimResult.DUPLICATE
