"""The test database chain falls back to the embedded Postgres when a Docker engine answers but cannot
start the image (no registry here), and says why; the run is never failed by that engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import postgres as pg


class _StartedEmbedded:
    def __init__(self) -> None:
        self.stopped = False

    def start(self, work_dir: Path) -> str:
        return f"postgresql://embedded@localhost/postgres?host={work_dir}"

    def stop(self) -> None:
        self.stopped = True


def test_docker_that_cannot_pull_falls_back_to_embedded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(pg, "docker_available", lambda: True)

    @contextmanager
    def unpullable(image: str) -> Iterator[str]:
        raise RuntimeError(f"pull access denied for {image}, repository does not exist\nmore detail")
        yield "never"

    embedded = _StartedEmbedded()
    monkeypatch.setattr(pg, "container_image", lambda: "postgres:17")
    monkeypatch.setattr(pg, "_container", unpullable)
    monkeypatch.setattr(pg, "EmbeddedPostgres", lambda: embedded)
    with pg.postgres_server(tmp_path) as server:
        assert server.kind == "embedded"
        assert "postgres:17 could not start: RuntimeError: pull access denied" in server.describe()
        assert "more detail" not in server.describe()
    assert embedded.stopped


def test_no_docker_uses_embedded_and_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(pg, "docker_available", lambda: False)
    embedded = _StartedEmbedded()
    monkeypatch.setattr(pg, "EmbeddedPostgres", lambda: embedded)
    with pg.postgres_server(tmp_path) as server:
        assert server.describe() == "embedded (no Docker engine answers)"


def test_test_database_url_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql+asyncpg://u:p@db.example:5433/x")
    with pg.postgres_server(tmp_path) as server:
        assert (server.kind, server.admin_dsn) == ("TEST_DATABASE_URL", "postgresql://u:p@db.example:5433/x")
