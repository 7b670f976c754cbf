"""Seeding the sample demo and adding a video, with in-memory fakes: files go to the store before rows go
to the catalog, seeding happens only on an empty catalog unless forced, and a video the catalog refuses
leaves no object behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_relay.domain import errors
from demo_relay.domain.models import Sample
from demo_relay.domain.use_cases.add_video import AddVideo
from demo_relay.domain.use_cases.manage_demos import ManageDemos
from demo_relay.domain.use_cases.seed import SAMPLE_DEMO_NAME, SeedSampleDemo
from tests.support.fakes import FakeCatalog, FakePlayHistory, FakeProbe, FakeVideoStore


@pytest.fixture
def samples(tmp_path: Path) -> list[Sample]:
    for name in ("a.mp4", "b.mp4"):
        (tmp_path / name).write_bytes(b"clip " + name.encode())
    return [Sample("Overview", tmp_path / "a.mp4", 6.0), Sample("Pricing", tmp_path / "b.mp4", None)]


async def test_seeding_an_empty_catalog_puts_files_then_lists_them(samples: list[Sample]) -> None:
    catalog, store = FakeCatalog(), FakeVideoStore()
    demo = await SeedSampleDemo(catalog, catalog, store, samples).execute()
    assert demo is not None and demo.name == SAMPLE_DEMO_NAME
    assert [(v.title, v.duration_s) for v in demo.videos] == [("Overview", 6.0), ("Pricing", None)]
    assert store.prepared
    assert {v.storage_path: store.objects[v.storage_path] for v in demo.videos} == {
        f"{demo.id}/a.mp4": b"clip a.mp4",
        f"{demo.id}/b.mp4": b"clip b.mp4",
    }


async def test_seeding_is_skipped_when_demos_exist_unless_forced(samples: list[Sample]) -> None:
    catalog, store = FakeCatalog(), FakeVideoStore()
    catalog.add_demo("Existing", [])
    assert await SeedSampleDemo(catalog, catalog, store, samples).execute() is None
    assert store.objects == {} and len(catalog.demos) == 1
    assert await SeedSampleDemo(catalog, catalog, store, samples).execute(force=True) is not None
    assert len(catalog.demos) == 2


async def test_a_failed_upload_seeds_no_demo(samples: list[Sample]) -> None:
    catalog, store = FakeCatalog(), FakeVideoStore()
    store.down = True
    with pytest.raises(errors.StorageUnavailable):
        await SeedSampleDemo(catalog, catalog, store, samples).execute()
    assert catalog.demos == {}


async def test_add_video_stores_the_file_and_reads_its_duration(tmp_path: Path) -> None:
    catalog, store = FakeCatalog(), FakeVideoStore()
    demo = catalog.add_demo("Acme", [])
    clip = tmp_path / "tour.mp4"
    clip.write_bytes(b"tour")
    add = AddVideo(catalog, catalog, store, FakeProbe({"tour.mp4": 9.5}))
    video = await add.execute(demo.id, " Tour  one ", clip)
    assert (video.title, video.duration_s, video.size_bytes, video.content_type) == (
        "Tour one",
        9.5,
        4,
        "video/mp4",
    )
    assert video.storage_path.startswith(f"{demo.id}/") and video.storage_path.endswith("-tour-one.mp4")
    assert store.objects == {video.storage_path: b"tour"}
    again = await add.execute(demo.id, "Two", clip)
    assert again.storage_path != video.storage_path  # a fresh path per video, never an overwrite


async def test_a_refused_video_leaves_no_object(tmp_path: Path) -> None:
    catalog, store = FakeCatalog(), FakeVideoStore()
    demo = catalog.add_demo("Acme", ["Product Overview"])
    clip = tmp_path / "again.mp4"
    clip.write_bytes(b"again")
    add = AddVideo(catalog, catalog, store, FakeProbe(), max_bytes=40)
    with pytest.raises(errors.TitleConflict) as refused:
        await add.execute(demo.id, "product   OVERVIEW", clip)
    assert refused.value.details["field"] == "title"
    with pytest.raises(errors.UnknownDemo):
        await add.execute("no-such-demo", "New", clip)
    with pytest.raises(errors.InvalidRequest):
        await add.execute(demo.id, "   ", clip)
    fake = tmp_path / "notes.mp4"
    fake.write_bytes(b"not a video, whatever its name")
    with pytest.raises(errors.UnsupportedMediaType):
        await add.execute(demo.id, "Notes", fake)
    big = tmp_path / "big.mp4"
    big.write_bytes(b"x" * 41)
    with pytest.raises(errors.VideoTooLarge):
        await add.execute(demo.id, "Big", big)
    assert store.objects == {} and len(catalog.demos[demo.id].videos) == 1


async def test_owners_rename_and_delete_videos_and_deletes_clean_up(tmp_path: Path) -> None:
    catalog, store, history = FakeCatalog(), FakeVideoStore(), FakePlayHistory()
    manage = ManageDemos(catalog, catalog, store, history)
    demo = await manage.create("  Acme   tour ")
    assert demo.name == "Acme tour"
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"a")
    add = AddVideo(catalog, catalog, store, FakeProbe())
    first, second = await add.execute(demo.id, "First", clip), await add.execute(demo.id, "Second", clip)
    assert (await manage.rename_video(demo.id, first.id, " Intro ")).title == "Intro"
    with pytest.raises(errors.TitleConflict):
        await manage.rename_video(demo.id, first.id, "SECOND")
    with pytest.raises(errors.UnknownVideo):
        await manage.rename_video(demo.id, "no-such-video", "x")
    with pytest.raises(errors.UnknownDemo):
        await manage.delete_video("no-such-demo", first.id)
    await manage.delete_video(demo.id, first.id)
    assert list(store.objects) == [second.storage_path]
    await manage.delete(demo.id)
    assert store.objects == {} and catalog.demos == {}
    with pytest.raises(errors.UnknownDemo):
        await manage.delete(demo.id)


async def test_a_store_that_is_down_does_not_undo_a_delete(tmp_path: Path) -> None:
    catalog, store = FakeCatalog(), FakeVideoStore()
    demo = catalog.add_demo("Acme", ["Tour"])
    store.down = True
    await ManageDemos(catalog, catalog, store, FakePlayHistory()).delete(demo.id)  # logged, not raised
    assert catalog.demos == {}
