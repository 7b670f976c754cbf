"""Question 1 — how many verified webhooks per second does one instance take, against a bare endpoint on the
same server stack?

wrk (one thread, 16 keep-alive connections, pinned off the server's core) POSTs pre-signed play_video
webhooks, each a distinct tool call, through the whole path — signature, dedupe claim, conversation and
video lookup, URL, publish — to one WebSocket subscriber of the conversation, which counts what it receives.
The baseline is `bench.bare_app` (a Litestar POST answering {"ok": true}) on the same uvicorn configuration,
measured in the same run with the same wrk script. Correctness is counted, not assumed: every distinct tool
call must be answered `played` once and reach the subscriber exactly once.

Run: `make bench` (or `.venv/bin/python -m bench.throughput`). Nothing here asserts a time."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench import harness as h

DURATION_S = 1 if h.SMOKE else 10
WARMUP_S = 1 if h.SMOKE else 2
CONNECTIONS = 16
SCRIPT = Path(__file__).parent / "wrk" / "signed_bodies.lua"


def write_bodies(path: Path, conversation_id: str, count: int, prefix: str) -> None:
    with path.open("w") as out:
        for i in range(count):
            body = h.play_body(conversation_id, f"{prefix}-{i}")
            out.write(f"{h.signature(body)}\t{body.decode()}\n")


async def wrk(base: str, bodies: Path, duration_s: int) -> dict[str, Any]:
    taskset = ["taskset", "-c", h.LOAD_CPUS] if h.LOAD_CPUS and shutil.which("taskset") else []
    process = await asyncio.create_subprocess_exec(
        *taskset,
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{duration_s}s",
        "-s",
        str(SCRIPT),
        base,
        "--",
        str(bodies),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    text = out.decode()
    found = re.search(r"^RESULT (\{.*\})$", text, re.M)
    rate = re.search(r"Requests/sec:\s*([\d.]+)", text)
    if process.returncode != 0 or not found or not rate:
        raise SystemExit(f"wrk failed:\n{text}")
    first_other = re.search(r"^FIRST_OTHER (.*)$", text, re.M)
    row: dict[str, Any] = {"requests_per_s": float(rate.group(1)), **json.loads(found.group(1))}
    if first_other:
        row["first_other_answer"] = first_other.group(1)[:300]
    return row


async def profile(pid: int, label: str) -> asyncio.subprocess.Process | None:
    """With BENCH_PROFILE=<name>: py-spy samples the server during the measured run and writes the flame
    graph bench/flames/<name>-<hub>.svg (the before/after pictures of an optimisation)."""
    name = os.environ.get("BENCH_PROFILE")
    if not name:
        return None
    out = Path(__file__).parent / "flames" / f"{name}-{label}.svg"
    out.parent.mkdir(exist_ok=True)
    py_spy = Path(sys.executable).parent / "py-spy"
    return await asyncio.create_subprocess_exec(
        str(py_spy),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(DURATION_S),
        "--rate",
        "250",
        "--output",
        str(out),
        "--format",
        "flamegraph",
        "--nonblocking",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Subscriber:
    """One WebSocket subscriber that counts play_video frames by tool call."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.frames = 0

    async def follow(self, url: str, ready: asyncio.Event) -> None:
        async with connect(url, max_queue=None, ping_interval=None) as ws:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("event") == "subscribed":
                    ready.set()
                elif frame.get("event") == "play_video":
                    self.frames += 1
                    call = frame["payload"]["tool_call_id"]
                    self.seen[call] = self.seen.get(call, 0) + 1


async def measure_service(server: h.Server, root: Path, label: str, bodies_per_run: int) -> dict[str, Any]:
    import httpx

    conversation = h.new_conversation()
    async with httpx.AsyncClient(timeout=10) as http:
        url = await h.open_session(http, server, conversation)
    subscriber = Subscriber()
    ready = asyncio.Event()
    follow = asyncio.create_task(subscriber.follow(url, ready))
    await asyncio.wait_for(ready.wait(), 10)
    warm = root / f"{label}-warm.tsv"
    write_bodies(warm, conversation, bodies_per_run, f"{label}-warm")
    await wrk(server.base, warm, WARMUP_S)
    bodies = root / f"{label}.tsv"
    write_bodies(bodies, conversation, bodies_per_run, label)
    cpu_before = h.cpu_s(server.pid)
    flame = {"webhook_memory_hub": "memory", "webhook_postgres_hub": "postgres"}.get(label)
    profiler = await profile(server.pid, flame) if flame else None
    result = await wrk(server.base, bodies, DURATION_S)
    if profiler is not None:
        await profiler.wait()
    result["server_cpu_s"] = round(h.cpu_s(server.pid) - cpu_before, 3)
    await asyncio.sleep(1.0)  # the last frames in flight
    follow.cancel()
    measured = {k: v for k, v in subscriber.seen.items() if k.startswith(f"{label}-") and "-warm-" not in k}
    result["frames_received"] = sum(measured.values())
    result["distinct_tool_calls_received"] = len(measured)
    result["repeated_frames"] = sum(n - 1 for n in measured.values() if n > 1)
    # wrk counts the answers that arrived within its duration; the requests in flight when it stopped (at
    # most one per connection) were played but not counted. Every counted play must have arrived, once.
    result["exactly_once"] = (
        result["wrapped"] == 0
        and result["other"] == 0
        and result["repeated_frames"] == 0
        and result["played"] <= len(measured) <= result["played"] + CONNECTIONS
    )
    return result


LABELS = {
    "bare": "bare Litestar POST (baseline)",
    "webhook_memory_hub": "verified webhook, memory hub",
    "webhook_postgres_hub": "verified webhook, postgres hub",
    "webhook_memory_hub_info_log": "verified webhook, memory hub, INFO log",
}


async def main_async(root: Path) -> dict[str, Any]:
    bodies_per_run = 2_000 if h.SMOKE else 80_000
    results: dict[str, Any] = {}
    with h.bare() as server:
        bodies = root / "bare.tsv"
        write_bodies(bodies, "bare", 1000, "bare")
        await wrk(server.base, bodies, WARMUP_S)
        cpu_before = h.cpu_s(server.pid)
        results["bare"] = await wrk(server.base, bodies, DURATION_S)
        results["bare"]["server_cpu_s"] = round(h.cpu_s(server.pid) - cpu_before, 3)
    with h.postgres(root) as dsn:
        # One DATA_DIR for all: the seeded videos' files live there. The servers log at WARNING like every
        # benchmark here; the last row is the default LOG_LEVEL=INFO (one access-log line per request).
        for key, hub, level in (
            ("webhook_memory_hub", "memory", "WARNING"),
            ("webhook_postgres_hub", "postgres", "WARNING"),
            ("webhook_memory_hub_info_log", "memory", "INFO"),
        ):
            with h.serve(root / "app", dsn, HUB_BACKEND=hub, LOG_LEVEL=level) as server:
                results[key] = await measure_service(server, root, key, bodies_per_run)
    return results


def report(results: dict[str, Any]) -> dict[str, Any]:
    bare = results["bare"]["requests_per_s"]
    print(
        f"throughput: wrk -t1 -c{CONNECTIONS} -d{DURATION_S}s, server on cpu {h.SERVER_CPU}, one subscriber"
    )
    print(f"  {'path':38} {'req/s':>9} {'ratio':>7} {'cpu µs/req':>11}  exactly once")
    for key, row in results.items():
        rate = row["requests_per_s"]
        total = row["played"] + row["duplicate"] + row["other"]
        per = row["server_cpu_s"] / total * 1e6 if total else float("nan")
        row["ratio_to_bare"] = h.ratio(rate, bare)
        row["server_cpu_us_per_request"] = round(per, 1)
        once = row.get("exactly_once", "n/a")
        print(f"  {LABELS[key]:38} {rate:9.0f} {row['ratio_to_bare']:7.2f} {per:11.0f}  {once}")
        if key != "bare" and not row["exactly_once"]:
            print(f"    !! {json.dumps(row)}", file=sys.stderr)
    return results


def main() -> None:
    h.pin_self_to_load_cpus()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (make bench installs Debian's wrk)")
    with tempfile.TemporaryDirectory(prefix="demo-relay-bench-") as tmp:
        results = report(h.run(main_async(Path(tmp))))
    if not os.environ.get("BENCH_PROFILE"):  # a profiled run is slower: its numbers are not the results
        h.Results("throughput", {"duration_s": DURATION_S, "connections": CONNECTIONS, **results}).write()
    if any(not row.get("exactly_once", True) for row in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
