"""The CLI's database commands against a real Postgres (click's runner, the same settings as `serve`):
`migrate` is idempotent, `seed` seeds only an empty database (unless --force), `add-video` imports a file
(judged as an upload is) into local storage with its duration read from the MP4, `demos` lists them, and
bad input is a clear error, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner

from demo_relay.adapters.sample_clips import SAMPLES_DIR
from demo_relay.entrypoints.cli import main
from tests.support.postgres import run_sync


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Callable[..., tuple[int, str]]:
    env = {
        "DATABASE_URL": database_url,
        "ADMIN_TOKEN": "cli-admin-token-0123456789",
        "TAVUS_WEBHOOK_SECRET": "cli-secret-0123456789",
        "DATA_DIR": str(tmp_path),
        "DEMO_RELAY_CONFIG": str(tmp_path / "absent.toml"),
    }

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.output

    return invoke


def fetch(database_url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return run_sync(go())


def test_migrate_seed_and_add_video(
    run: object, database_url: str, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    invoke = run  # type: ignore[assignment]
    code, out = invoke("migrate")
    assert code == 0 and "up to date" in out

    code, out = invoke("seed")
    assert code == 0 and out.startswith("seeded demo ")
    demo_id = out.split()[-1]
    code, out = invoke("seed")
    assert code == 0 and "nothing seeded" in out
    assert len(fetch(database_url, "select id from demos")) == 1
    assert sorted(p.name for p in (tmp_path / "media" / demo_id).iterdir()) == [
        "integrations-tour.mp4",
        "pricing-walkthrough.mp4",
        "product-overview.mp4",
    ]

    clip = SAMPLES_DIR / "pricing-walkthrough.mp4"
    code, out = invoke("add-video", "--demo", demo_id, "--title", "Security deep dive", str(clip))
    assert code == 0 and out.startswith("added video ")
    [row] = fetch(
        database_url, "select storage_path, duration_s from demo_videos where title = 'Security deep dive'"
    )
    assert row["duration_s"] == pytest.approx(9.0, abs=0.05)  # read from the MP4's mvhd box
    assert (tmp_path / "media" / row["storage_path"]).read_bytes() == clip.read_bytes()

    stored = sorted((tmp_path / "media" / demo_id).iterdir())
    code, out = invoke("add-video", "--demo", demo_id, "--title", "security DEEP dive", str(clip))
    assert code == 1 and "Error:" in out and "Traceback" not in out
    assert sorted((tmp_path / "media" / demo_id).iterdir()) == stored  # the refused video left no file
    code, out = invoke(
        "add-video", "--demo", "00000000-0000-0000-0000-000000000000", "--title", "x", str(clip)
    )
    assert code == 1 and "no demo" in out

    notes = tmp_path / "notes.mp4"
    notes.write_bytes(b"not a video, whatever the name says")
    code, out = invoke("add-video", "--demo", demo_id, "--title", "Notes", str(notes))
    assert code == 1 and "not an MP4, QuickTime or WebM video" in out  # the same checks as the API's

    code, out = invoke("demos")
    assert code == 0
    assert out.splitlines()[0] == f"{demo_id}  Acme Analytics product tour  (4 videos)", out
    assert "'Security deep dive'  9.0 s  video/mp4" in out

    code, out = invoke("seed", "--force")
    assert code == 0 and len(fetch(database_url, "select id from demos")) == 2


def test_bad_settings_are_one_clear_line(database_url: str) -> None:
    result = CliRunner().invoke(main, ["migrate"], env={"DATABASE_URL": database_url, "NOTIFIER": "pigeon"})
    assert result.exit_code == 1 and "NOTIFIER must be websocket, supabase or both" in result.output


def test_fake_supabase_without_devtools_says_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # The product does not carry the fake; where devtools/ is not installed the command explains itself.
    monkeypatch.setitem(sys.modules, "fake_supabase.cli", None)  # makes the import fail as if absent
    result = CliRunner().invoke(main, ["fake-supabase", "--port", "1"])
    assert result.exit_code == 1
    assert "pip install -e devtools" in result.output


def test_purge_forgets_old_deliveries(run: object, database_url: str, db_pool: asyncpg.Pool) -> None:
    invoke = run  # type: ignore[assignment]
    for key, hours in (("old", 9 * 24), ("new", 1)):
        fetch(
            database_url,
            "insert into webhook_events (dedupe_key, event_type, status, claimed_at, completed_at)"
            " values ($1, 'tool_call.play_video', 'played', now() - make_interval(hours => $2),"
            " now() - make_interval(hours => $2))",
            key,
            hours,
        )
    assert invoke("purge", "--older-than", "7d") == (0, "forgot 1 deliveries\n")
    assert [r["dedupe_key"] for r in fetch(database_url, "select dedupe_key from webhook_events")] == ["new"]
    assert invoke("purge") == (0, "forgot 0 deliveries\n")  # the 30-day default keeps the new one
    code, out = invoke("purge", "--older-than", "soon")
    assert code == 2 and "7d" in out
    code, out = invoke("purge", "--older-than", "1h")  # younger rows still decide what is a repeat
    assert code == 2 and "at least 1d" in out
