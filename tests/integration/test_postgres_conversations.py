"""AsyncpgConversationDirectory on a real Postgres: a conversation is registered to a demo (registering
again for the same demo keeps it and takes the new URL; another demo is refused, so nobody can divert a
conversation; an ended conversation stays ended),
looked up, and ended (status, end time, demo id returned), and unknown ids or demos are answered without
database errors."""

from __future__ import annotations

import asyncpg
import pytest

from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.adapters.postgres.conversations import AsyncpgConversationDirectory
from demo_relay.domain.errors import ConversationConflict, ConversationEnded, UnknownDemo


@pytest.fixture
def directory(db_pool: asyncpg.Pool) -> AsyncpgConversationDirectory:
    return AsyncpgConversationDirectory(db_pool)


@pytest.fixture
def catalog(db_pool: asyncpg.Pool) -> AsyncpgDemoCatalog:
    return AsyncpgDemoCatalog(db_pool)


async def _row(pool: asyncpg.Pool, conversation_id: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "select demo_id::text as demo_id, conversation_url, status, ended_at from conversations"
        " where conversation_id = $1",
        conversation_id,
    )
    assert row is not None
    return row


async def test_register_then_look_up(directory: AsyncpgConversationDirectory, catalog: AsyncpgDemoCatalog):
    demo = await catalog.create_demo("Acme")
    await directory.register("c123", demo.id, "https://tavus.daily.co/c123")

    assert await directory.demo_for("c123") == demo.id
    assert await directory.demo_for("unknown") is None


async def test_registering_again_keeps_it_and_another_demo_is_refused(
    directory: AsyncpgConversationDirectory, catalog: AsyncpgDemoCatalog, db_pool: asyncpg.Pool
):
    first = await catalog.create_demo("First")
    second = await catalog.create_demo("Second")
    await directory.register("c1", first.id, "https://example.test/a")

    await directory.register("c1", first.id, None)  # a page reload that does not know the URL
    assert (await _row(db_pool, "c1"))["conversation_url"] == "https://example.test/a"
    await directory.register("c1", first.id, "https://example.test/a2")  # one that does
    assert (await _row(db_pool, "c1"))["conversation_url"] == "https://example.test/a2"

    with pytest.raises(ConversationConflict):
        await directory.register("c1", second.id, "https://example.test/b")
    assert await directory.demo_for("c1") == first.id
    assert (await _row(db_pool, "c1"))["conversation_url"] == "https://example.test/a2"
    assert await db_pool.fetchval("select count(*) from conversations") == 1


async def test_an_ended_conversation_is_never_reactivated(
    directory: AsyncpgConversationDirectory, catalog: AsyncpgDemoCatalog, db_pool: asyncpg.Pool
):
    demo = await catalog.create_demo("Acme")
    await directory.register("c1", demo.id, "https://example.test/a")
    assert await directory.end("c1") == demo.id
    ended = await _row(db_pool, "c1")

    with pytest.raises(ConversationEnded):
        await directory.register("c1", demo.id, "https://example.test/elsewhere")
    assert await directory.is_ended("c1")
    assert await _row(db_pool, "c1") == ended  # status, end time and URL unchanged


async def test_end_marks_ended_and_returns_the_demo(
    directory: AsyncpgConversationDirectory, catalog: AsyncpgDemoCatalog, db_pool: asyncpg.Pool
):
    demo = await catalog.create_demo("Acme")
    await directory.register("c1", demo.id, None)

    assert await directory.end("c1") == demo.id
    row = await _row(db_pool, "c1")
    assert row["status"] == "ended"
    assert row["ended_at"] is not None

    # Ending again is harmless and keeps the first end time; the conversation still maps to its demo
    # (transcripts and recordings arrive after the shutdown).
    assert await directory.end("c1") == demo.id
    assert (await _row(db_pool, "c1"))["ended_at"] == row["ended_at"]
    assert await directory.demo_for("c1") == demo.id


async def test_end_of_an_unknown_conversation_is_none(directory: AsyncpgConversationDirectory):
    assert await directory.end("never-registered") is None


async def test_register_with_unknown_demo_is_unknown_demo(directory: AsyncpgConversationDirectory):
    with pytest.raises(UnknownDemo):
        await directory.register("c1", "00000000-0000-0000-0000-000000000000", None)
    with pytest.raises(UnknownDemo):
        await directory.register("c1", "not-a-uuid", None)


async def test_ids_postgres_cannot_store_are_simply_unknown(directory: AsyncpgConversationDirectory):
    assert await directory.demo_for("bad\x00id") is None
    assert await directory.end("bad\x00id") is None


async def test_deleting_a_demo_removes_its_conversations(
    directory: AsyncpgConversationDirectory, catalog: AsyncpgDemoCatalog, db_pool: asyncpg.Pool
):
    demo = await catalog.create_demo("Acme")
    await directory.register("c1", demo.id, None)
    await db_pool.execute("delete from demos where id = $1::uuid", demo.id)
    assert await directory.demo_for("c1") is None
