"""The benchmarks keep working: each bench/ script runs with tiny numbers (BENCH_SMOKE=1) and prints its
table. Nothing here looks at a time (benchmarks are read, never asserted: bench/README.md); what is asserted
is what the scripts check themselves — every played webhook reached the subscriber exactly once, every
delivery arrived — and that a smoke run leaves bench/results/latest.json alone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"


def run_bench(module: str) -> str:
    before = RESULTS.read_bytes() if RESULTS.exists() else None
    env = {**os.environ, "BENCH_SMOKE": "1"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{module} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    after = RESULTS.read_bytes() if RESULTS.exists() else None
    assert after == before, "a smoke run must not overwrite the committed results"
    return done.stdout


def test_throughput_counts_every_play_once() -> None:
    assert shutil.which("wrk"), "the throughput benchmark drives Debian's wrk: `make wrk` installs it"
    out = run_bench("throughput")
    rows = [line for line in out.splitlines() if "verified webhook" in line]
    assert len(rows) == 3, out  # memory hub, Postgres hub, memory hub with the access log; vs the bare POST
    assert all(row.rstrip().endswith("True") for row in rows), out  # exactly once, counted by the script
    assert re.search(r"bare Litestar POST \(baseline\)\s+\d+", out), out


def test_latency_loses_nothing() -> None:
    out = run_bench("latency")
    for hub in ("memory hub", "postgres hub"):
        rows = [line for line in out.splitlines() if hub in line]
        assert len(rows) == 3, out  # 50, 200 and 1,000 webhooks/s
        for row in rows:
            errors, lost = row.split()[-3:-1]
            assert (errors, lost) == ("0", "0"), row


def test_sockets_deliver_every_frame() -> None:
    out = run_bench("sockets")
    assert "idle RSS per socket" in out, out
    for phase in ("viewers", "fanout"):
        row = next(line for line in out.splitlines() if line.strip().startswith(phase))
        delivered, expected = re.search(r"→ (\d+)/(\d+) deliveries", row).groups()  # type: ignore[union-attr]
        assert delivered == expected, row
        assert row.rstrip().endswith("errors 0"), row


def test_hot_path_db_measures_every_way() -> None:
    out = run_bench("hot_path_db")  # the one-statement way asserts it resolved the video itself
    for way in (
        "select 1",
        "four statements, resetting",
        "four statements, pool",
        "one statement",
        "claim only",
    ):
        assert any(line.strip().startswith(way) for line in out.splitlines()), out


def test_cross_instance_and_cold_start_run() -> None:
    assert "webhook on A → subscriber on B" in run_bench("cross_instance")
    out = run_bench("cold_start")
    assert re.search(r"restart, embedded Postgres\s+[\d.]+ s", out), out
