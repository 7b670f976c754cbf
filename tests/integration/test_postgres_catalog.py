"""AsyncpgDemoCatalog on a real Postgres with pg_trgm: demos are listed with their own videos in one query
(no N+1), ordered; a title is found exactly (ignoring case and spacing), else by trigram similarity above
the threshold, else the demo's three closest titles are suggested (never empty when it has videos); one
demo's videos never answer for another; ids that are not UUIDs are "not found", never database errors;
and the writes used by seeding/CLI reject duplicates and unknown demos with InvalidRequest."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.adapters.postgres.pool import create_pool
from demo_relay.domain.errors import AlreadyListed, InvalidRequest, TitleConflict
from demo_relay.domain.models import Demo, DemoChanges

TITLES = ("Pricing Walkthrough", "Security Overview", "Onboarding in 5 minutes", "Reporting Dashboard")


@pytest.fixture
def catalog(db_pool: asyncpg.Pool) -> AsyncpgDemoCatalog:
    return AsyncpgDemoCatalog(db_pool)


@pytest.fixture
async def demo(catalog: AsyncpgDemoCatalog) -> Demo:
    created = await catalog.create_demo("Acme")
    for i, title in enumerate(TITLES):
        await catalog.add_video(created.id, title, f"acme/{i}.mp4", 10.0 + i)
    return created


# --- find_video -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "asked",
    [
        "Pricing Walkthrough",
        "pricing walkthrough",
        "PRICING WALKTHROUGH",
        "  Pricing   Walkthrough ",
        "pricing\twalkthrough\n",
    ],
)
async def test_exact_match_ignores_case_and_spacing(catalog: AsyncpgDemoCatalog, demo: Demo, asked: str):
    match = await catalog.find_video(demo.id, asked)
    assert match.video is not None
    assert (match.video.title, match.video.demo_id, match.video.storage_path) == (
        "Pricing Walkthrough",
        demo.id,
        "acme/0.mp4",
    )
    assert match.video.duration_s == 10.0
    uuid.UUID(match.video.id)


async def test_fuzzy_match_above_the_threshold(catalog: AsyncpgDemoCatalog, demo: Demo):
    match = await catalog.find_video(demo.id, "pricing walkthru")
    assert match.video is not None and match.video.title == "Pricing Walkthrough"

    match = await catalog.find_video(demo.id, "the security overveiw")
    assert match.video is not None and match.video.title == "Security Overview"


async def test_exact_match_wins_over_a_more_similar_looking_title(catalog: AsyncpgDemoCatalog):
    demo = await catalog.create_demo("Intro")
    await catalog.add_video(demo.id, "Intro to pricing", "a.mp4")
    await catalog.add_video(demo.id, "Intro", "b.mp4")
    match = await catalog.find_video(demo.id, " INTRO ")
    assert match.video is not None and match.video.title == "Intro"


async def test_threshold_is_configurable(db_pool: asyncpg.Pool, catalog: AsyncpgDemoCatalog, demo: Demo):
    strict = AsyncpgDemoCatalog(db_pool, title_match_threshold=0.95)
    match = await strict.find_video(demo.id, "pricing walkthru")
    assert match.video is None
    assert match.suggestions[0] == "Pricing Walkthrough"
    # and the exact match does not depend on it
    assert (await strict.find_video(demo.id, "pricing  WALKTHROUGH")).video is not None


async def test_below_threshold_suggests_the_three_closest(catalog: AsyncpgDemoCatalog, demo: Demo):
    match = await catalog.find_video(demo.id, "reports")
    assert match.video is None
    assert len(match.suggestions) == 3
    assert match.suggestions[0] == "Reporting Dashboard"
    assert set(match.suggestions) <= set(TITLES)


async def test_suggestions_are_never_empty_when_the_demo_has_videos(catalog: AsyncpgDemoCatalog, demo: Demo):
    # nothing in common at all: similarity 0 for every title; ties are broken by title
    match = await catalog.find_video(demo.id, "zzz")
    assert match.video is None
    assert match.suggestions == tuple(sorted(TITLES)[:3])


async def test_a_demo_with_fewer_videos_suggests_what_it_has(catalog: AsyncpgDemoCatalog):
    demo = await catalog.create_demo("Small")
    await catalog.add_video(demo.id, "Only one", "one.mp4")
    assert (await catalog.find_video(demo.id, "zzz")).suggestions == ("Only one",)
    empty = await catalog.create_demo("Empty")
    match = await catalog.find_video(empty.id, "anything")
    assert (match.video, match.suggestions) == (None, ())


async def test_other_demos_videos_never_match(catalog: AsyncpgDemoCatalog, demo: Demo):
    other = await catalog.create_demo("Globex")
    await catalog.add_video(other.id, "Kubernetes Deep Dive", "globex/k8s.mp4")

    match = await catalog.find_video(demo.id, "Kubernetes Deep Dive")
    assert match.video is None
    assert "Kubernetes Deep Dive" not in match.suggestions
    assert set(match.suggestions) <= set(TITLES)

    match = await catalog.find_video(other.id, "Pricing Walkthrough")
    assert match.video is None
    assert match.suggestions == ("Kubernetes Deep Dive",)


async def test_titles_postgres_cannot_store_are_compared_safely(catalog: AsyncpgDemoCatalog, demo: Demo):
    match = await catalog.find_video(demo.id, "pricing\x00walkthrough")
    assert match.video is not None and match.video.title == "Pricing Walkthrough"


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "1234", "demo-'; drop table demos; --"])
async def test_ids_that_are_not_uuids_are_not_found(catalog: AsyncpgDemoCatalog, demo: Demo, bad_id: str):
    assert await catalog.get_demo(bad_id) is None
    assert await catalog.find_video(bad_id, "Pricing Walkthrough") == (await catalog.find_video(bad_id, "x"))
    assert (await catalog.find_video(bad_id, "Pricing Walkthrough")).video is None


# --- get_demo / list_demos ------------------------------------------------------------------------


async def test_get_demo(catalog: AsyncpgDemoCatalog, demo: Demo):
    found = await catalog.get_demo(demo.id)
    assert found is not None
    assert (found.id, found.name) == (demo.id, "Acme")
    assert tuple(v.title for v in found.videos) == TITLES  # in insertion (created_at) order
    assert await catalog.get_demo(str(uuid.uuid4())) is None
    # any spelling of the UUID finds it, and the canonical id comes back (channels are named after it)
    upper = await catalog.get_demo(demo.id.upper())
    assert upper is not None and upper.id == demo.id


async def test_list_demos_returns_each_demo_with_its_own_videos_in_one_query(
    database_url: str, db_pool: asyncpg.Pool
):
    # db_pool: requested for its truncation, so only this test's demos exist
    queries: list[str] = []

    async def count_queries(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: queries.append(record.query))

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2, init=count_queries)
    try:
        catalog = AsyncpgDemoCatalog(pool)
        expected: dict[str, list[str]] = {}
        for d in range(5):
            created = await catalog.create_demo(f"Demo {d}")
            expected[created.id] = []
            for v in range(d):  # Demo 0 has no videos, Demo 4 has four
                title = f"Video {d}.{v}"
                await catalog.add_video(created.id, title, f"{d}/{v}.mp4", 5.0)
                expected[created.id].append(title)

        queries.clear()
        demos = await catalog.list_demos()

        # (the pool's own reset on release is not ours; its log entry may even arrive late)
        ours = [q for q in queries if "pg_advisory_unlock_all" not in q]
        assert len(ours) == 1, ours
        assert [d.id for d in demos] == list(expected)  # ordered by created_at
        assert [d.name for d in demos] == [f"Demo {d}" for d in range(5)]
        for listed in demos:
            assert [v.title for v in listed.videos] == expected[listed.id]
            assert all(v.demo_id == listed.id for v in listed.videos)
    finally:
        await pool.close()


async def test_list_demos_when_there_are_none(catalog: AsyncpgDemoCatalog):
    assert await catalog.list_demos() == []
    assert await catalog.is_empty()


# --- writes ---------------------------------------------------------------------------------------


async def test_create_demo_with_a_chosen_id(catalog: AsyncpgDemoCatalog):
    chosen = str(uuid.uuid4())
    demo = await catalog.create_demo("  Chosen  ", demo_id=chosen)
    assert (demo.id, demo.name, demo.videos) == (chosen, "Chosen", ())
    assert not await catalog.is_empty()
    with pytest.raises(InvalidRequest):
        await catalog.create_demo("Again", demo_id=chosen)
    with pytest.raises(InvalidRequest):
        await catalog.create_demo("Bad", demo_id="not-a-uuid")
    with pytest.raises(InvalidRequest):
        await catalog.create_demo("   ")


@pytest.mark.parametrize(
    "same_title", ["pricing walkthrough", "  PRICING   Walkthrough", "Pricing\tWalkthrough"]
)
async def test_add_video_rejects_a_title_the_demo_already_has(
    catalog: AsyncpgDemoCatalog, demo: Demo, same_title: str
):
    with pytest.raises(TitleConflict) as raised:
        await catalog.add_video(demo.id, same_title, "dup.mp4")
    assert raised.value.details["field"] == "title"


async def test_owner_writes_update_rename_and_delete(
    catalog: AsyncpgDemoCatalog, demo: Demo, db_pool: asyncpg.Pool
) -> None:
    listed = await catalog.get_demo(demo.id)
    assert listed is not None and len(listed.videos) >= 2
    demo = listed
    changed = await catalog.update_demo(
        demo.id, DemoChanges(name=" Acme  2 ", public_start=True, tavus_persona_id="p123")
    )
    assert changed is not None
    assert (changed.name, changed.public_start, changed.tavus_persona_id, changed.tavus_replica_id) == (
        "Acme 2",
        True,
        "p123",
        None,
    )
    assert len(changed.videos) == len(demo.videos)  # the demo comes back whole
    cleared = await catalog.update_demo(demo.id, DemoChanges(clear_persona=True))
    assert cleared is not None and cleared.tavus_persona_id is None and cleared.public_start is True
    assert await catalog.update_demo("not-a-uuid", DemoChanges(name="x")) is None
    with pytest.raises(InvalidRequest):
        await catalog.update_demo(demo.id, DemoChanges(name="  "))

    first, second = demo.videos[0], demo.videos[1]
    renamed = await catalog.rename_video(demo.id, first.id, "  Intro   tour ")
    assert renamed is not None and renamed.title == "Intro tour"
    with pytest.raises(TitleConflict):
        await catalog.rename_video(demo.id, first.id, second.title.upper())
    other = await catalog.create_demo("Other")
    assert await catalog.rename_video(other.id, first.id, "x") is None  # not that demo's video
    deleted = await catalog.delete_video(demo.id, first.id)
    assert deleted is not None and deleted.storage_path == first.storage_path
    assert await catalog.delete_video(demo.id, first.id) is None

    await db_pool.execute(
        "insert into conversations (conversation_id, demo_id) values ('c1', $1::uuid)", demo.id
    )
    paths = await catalog.delete_demo(demo.id)
    assert paths is not None and sorted(paths) == sorted(v.storage_path for v in demo.videos[1:])
    assert await catalog.get_demo(demo.id) is None
    assert await db_pool.fetchval("select count(*) from conversations") == 0  # gone with its demo
    assert await catalog.delete_demo(demo.id) is None


async def test_one_row_per_stored_object(catalog: AsyncpgDemoCatalog, demo: Demo) -> None:
    # Deleting a video removes its object: two rows naming one object would break each other.
    await catalog.add_video(demo.id, "One", "acme/shared.mp4")
    with pytest.raises(AlreadyListed):
        await catalog.add_video(demo.id, "Two", "acme/shared.mp4")


async def test_the_same_title_may_exist_in_two_demos(catalog: AsyncpgDemoCatalog, demo: Demo):
    other = await catalog.create_demo("Globex")
    video = await catalog.add_video(other.id, "Pricing Walkthrough", "globex/p.mp4", None)
    assert (video.demo_id, video.title, video.duration_s) == (other.id, "Pricing Walkthrough", None)


async def test_add_video_tidies_the_title(catalog: AsyncpgDemoCatalog, demo: Demo):
    video = await catalog.add_video(demo.id, "  Release   notes\n", "acme/r.mp4")
    assert video.title == "Release notes"


@pytest.mark.parametrize(
    ("demo_id", "title", "path", "duration"),
    [
        ("00000000-0000-0000-0000-000000000000", "T", "p.mp4", 1.0),  # unknown demo
        ("not-a-uuid", "T", "p.mp4", 1.0),
        (None, "   ", "p.mp4", 1.0),
        (None, "T", " ", 1.0),
        (None, "T", "p.mp4", 0.0),
        (None, "T", "p.mp4", -3.0),
        (None, "T", "p.mp4", float("nan")),
    ],
)
async def test_add_video_rejects_bad_input(
    catalog: AsyncpgDemoCatalog, demo: Demo, demo_id: str | None, title: str, path: str, duration: float
):
    with pytest.raises(InvalidRequest):
        await catalog.add_video(demo_id or demo.id, title, path, duration)


async def test_the_database_enforces_title_uniqueness_too(db_pool: asyncpg.Pool, demo: Demo):
    """Writers other than this adapter (SQL console, Supabase dashboard) meet the same rule."""
    with pytest.raises(asyncpg.UniqueViolationError):
        await db_pool.execute(
            "insert into demo_videos (demo_id, title, storage_path) values ($1::uuid, $2, 'x.mp4')",
            demo.id,
            " security   OVERVIEW ",
        )


async def test_a_fresh_pool_reads_what_another_wrote(
    database_url: str, catalog: AsyncpgDemoCatalog, demo: Demo
):
    pool = await create_pool(database_url)
    try:
        again = await AsyncpgDemoCatalog(pool).get_demo(demo.id)
        assert again is not None and len(again.videos) == len(TITLES)
    finally:
        await pool.close()
