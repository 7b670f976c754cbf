"""The product as a wheel, outside the checkout: `pip wheel .` carries what `serve` needs at run time
(migrations, the sample clips, the built page) and no test double, and the installed wheel migrates an
empty database, seeds it, serves the page, answers /readyz and plays a signed webhook from a directory that
is not the repository.

The wheel goes into a fresh virtualenv with `--no-deps`; its dependencies are lent by the test run's own
environment through a plain path entry (that environment's editable finders for this checkout and for
devtools/ are not loaded: a .pth file listed by path is not processed). The wheel's declared dependencies
are checked against what is installed, so the lending hides no missing requirement."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from demo_relay.adapters.signatures import tavus_hmac
from tests.support import postgres as pg
from tests.support.server import free_port, stop, wait_ready

ROOT = Path(__file__).resolve().parents[2]
SECRET = "wheel-test-secret"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    python: Path
    bin: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    out = tmp_path_factory.mktemp("wheel")
    assert (ROOT / "src/entrypoints/http/page/index.html").is_file(), "build the page first (make does)"
    subprocess.run(
        # The dev environment has the build backend: no isolated build environment to set up each run.
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
        ],
        check=True,
        cwd=ROOT,
    )
    [wheel] = out.glob("demo_relay-*.whl")
    venv = out / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        check=True,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "_lent_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return Installed(wheel, python, venv / "bin")


def test_the_wheel_carries_the_run_time_files_and_no_test_double(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    for needed in (
        "demo_relay/adapters/postgres/migrations/20261125120000_initial_schema.sql",
        "demo_relay/adapters/samples/samples.json",
        "demo_relay/adapters/samples/product-overview.mp4",
        "demo_relay/entrypoints/http/page/index.html",
    ):
        assert needed in names
    assert any(n.startswith("demo_relay/entrypoints/http/page/assets/") and n.endswith(".js") for n in names)
    doubles = [n for n in names if "fake" in n.lower() or n.startswith(("tests/", "devtools/", "bench/"))]
    assert doubles == []
    assert {n.split("/")[0] for n in names} == {"demo_relay", "demo_relay-0.1.0.dist-info"}


def test_its_declared_dependencies_are_installed_and_it_runs_from_its_own_files(installed: Installed) -> None:
    check = """
import importlib.metadata as md, importlib.util, json
from packaging.requirements import Requirement
missing = []
for line in md.requires("demo-relay") or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue  # the dev extra
    try:
        version = md.version(req.name)
    except md.PackageNotFoundError:
        missing.append(str(req)); continue
    if not req.specifier.contains(version, prereleases=True):
        missing.append(f"{req} (installed {version})")
import demo_relay
print(json.dumps({"missing": missing, "file": demo_relay.__file__,
                  "devtools": importlib.util.find_spec("fake_supabase") is not None}))
"""
    result = json.loads(
        subprocess.run(
            [str(installed.python), "-c", check], check=True, capture_output=True, text=True, cwd="/"
        ).stdout
    )
    assert result["missing"] == []
    assert Path(result["file"]).is_relative_to(installed.bin.parent)
    assert result["devtools"] is False  # the fake Supabase is not in the product's environment


@pytest.fixture(scope="module")
def served(
    installed: Installed, postgres_server: pg.PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    elsewhere = tmp_path_factory.mktemp("not-the-checkout")
    port = free_port()
    with pg.fresh_database(postgres_server, migrated=False) as dsn:  # the wheel's migrations build it
        yield from _serve(installed, elsewhere, port, dsn)


def _serve(installed: Installed, elsewhere: Path, port: int, dsn: str) -> Iterator[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "SUPABASE", "PYTHON"))},
        "DATABASE_URL": dsn,
        "ADMIN_TOKEN": "wheel-admin-token-0123456789",
        "PORT": str(port),
        "DATA_DIR": str(elsewhere / "data"),
        "TAVUS_WEBHOOK_SECRET": SECRET,
        "DEMO_RELAY_CONFIG": str(elsewhere / "absent.toml"),
        "STORAGE": "local",
        "NOTIFIER": "websocket",
    }
    env.pop("FRONTEND_DIST", None)  # the page must come from the wheel
    log = (elsewhere / "serve.log").open("w")
    process = subprocess.Popen(
        [str(installed.bin / "demo-relay"), "serve"],
        cwd=elsewhere,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, time.monotonic())
        yield base
    finally:
        stop(process)
        log.close()


def test_the_installed_wheel_serves_the_page_and_plays_a_webhook(served: str) -> None:
    assert httpx.get(f"{served}/readyz").json() == {"status": "ready"}
    page = httpx.get(f"{served}/")
    assert page.status_code == 200 and '<div id="root">' in page.text
    [demo] = httpx.get(f"{served}/api/demos").json()
    assert len(demo["videos"]) == 3
    body = json.dumps(
        {
            "event_type": "conversation.tool_call",
            "conversation_id": "wheel-conversation",
            "properties": {
                "name": "play_video",
                "tool_call_id": "call_wheel_1",
                "arguments": json.dumps({"video_title": "Pricing Walkthrough"}),
            },
        }
    ).encode()
    played = httpx.post(
        f"{served}/api/tavus-webhook",
        params={"demo_id": demo["id"]},
        content=body,
        headers={"content-type": "application/json", "x-tavus-signature": tavus_hmac.sign(SECRET, body)},
    )
    assert played.status_code == 200, played.text
    assert played.json()["status"] == "played"
    video = httpx.get(played.json()["video"]["url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
