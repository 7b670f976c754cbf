"""Question 4b — how long from `demo-relay serve` to `/readyz` 200?

Three starts, each timed from process start to the first 200 of /readyz: the first run (the embedded
Postgres is initialised, migrations run, the sample demo is seeded), a restart of the same DATA_DIR (what
every `make run` after the first, and every restart of an instance, costs), and a restart against an
external Postgres that is already up (DATABASE_URL: what a container restart costs). Baselines from the same
run: `python -c pass` (the interpreter alone) and `python -c "import demo_relay.entrypoints.http.app"` (our
imports). Each start is stopped with SIGTERM; the restart is the median of several.

Run: `make bench` (or `.venv/bin/python -m bench.cold_start`). Nothing here asserts a time."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness as h

RESTARTS = 1 if h.SMOKE else 5


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def start(data_dir: Path, dsn: str | None) -> float:
    with h.serve(data_dir, dsn) as server:
        return server.ready_s


def main() -> None:
    results: dict[str, Any] = {}
    results["python_pass_s"] = statistics.median(
        timed([sys.executable, "-c", "pass"]) for _ in range(RESTARTS)
    )
    results["import_app_s"] = statistics.median(
        timed([sys.executable, "-c", "import demo_relay.entrypoints.http.app"]) for _ in range(RESTARTS)
    )
    with tempfile.TemporaryDirectory(prefix="demo-relay-bench-") as tmp:
        root = Path(tmp)
        results["first_run_s"] = start(root / "embedded", None)
        results["restart_embedded_s"] = statistics.median(
            start(root / "embedded", None) for _ in range(RESTARTS)
        )
        with h.postgres(root) as dsn:
            start(root / "external", dsn)  # migrates and seeds once
            results["restart_external_s"] = statistics.median(
                start(root / "external", dsn) for _ in range(RESTARTS)
            )
    rounded = {k: round(v, 3) for k, v in results.items()}
    base = rounded["python_pass_s"]
    print("cold start: process start → /readyz 200")
    print(f"  baseline python -c pass                  {base:6.3f} s")
    print(f"  import demo_relay.entrypoints.http.app   {rounded['import_app_s']:6.3f} s")
    for key, label in (
        ("first_run_s", "first run (initdb, migrations, seed)"),
        ("restart_embedded_s", "restart, embedded Postgres"),
        ("restart_external_s", "restart, external Postgres up"),
    ):
        print(f"  {label:40} {rounded[key]:6.3f} s   ratio {rounded[key] / base:5.1f}x")
    h.Results("cold_start", {"restarts": RESTARTS, **rounded}).write()


if __name__ == "__main__":
    main()
