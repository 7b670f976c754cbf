"""What every benchmark shares: an embedded Postgres, `demo-relay serve` (or the bare baseline app) started
and stopped as a process on loopback, signed play_video webhooks, sessions and sockets, process readings
(RSS, CPU seconds), percentiles, and `bench/results/latest.json` (each script writes its own section).

Servers run as processes with the production entry point (`demo-relay serve`: the same uvicorn
configuration, event loop and HTTP parser as a deployment), never in the benchmark's own event loop. On a
machine with several cores the server is pinned to core 0 and the load generators to the others, so the
two do not trade places mid-run; Postgres is left to the scheduler. Nothing here asserts a time."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from demo_relay.adapters.postgres.embedded import EmbeddedPostgres
from demo_relay.adapters.signatures import tavus_hmac
from tests.support.app import play_video_body
from tests.support.server import free_port

SECRET = "bench-webhook-secret-0123456789abcdef"
ADMIN = "bench-admin-token-0123456789abcdef"
APP_SECRET = "bench-app-secret-0123456789abcdef0123456789"
TITLE = "Pricing Walkthrough"
RESULTS = Path(__file__).parent / "results" / "latest.json"
BIN = Path(sys.executable).parent
CPUS = os.cpu_count() or 1
SERVER_CPU = "0" if CPUS > 1 else None
LOAD_CPUS = ",".join(str(c) for c in range(1, CPUS)) if CPUS > 1 else None
SMOKE = os.environ.get("BENCH_SMOKE") == "1"  # tiny numbers: the scripts still work (tests/e2e runs this)


def owner() -> dict[str, str]:
    return {"authorization": f"Bearer {ADMIN}"}


def pin_self_to_load_cpus() -> None:
    """The benchmark process (a load generator itself) stays off the server's core."""
    if LOAD_CPUS is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(c) for c in LOAD_CPUS.split(",")})


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """Seconds in, milliseconds out: p50/p95/p99/max."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1e3, 3),
        "p95_ms": round(pct(values, 0.95) * 1e3, 3),
        "p99_ms": round(pct(values, 0.99) * 1e3, 3),
        "max_ms": round(max(values) * 1e3, 3),
    }


def play_body(conversation_id: str, tool_call_id: str, title: str = TITLE) -> bytes:
    return play_video_body(title, tool_call_id, conversation_id)


def signature(body: bytes) -> str:
    return tavus_hmac.sign(SECRET, body)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@contextmanager
def postgres(root: Path) -> Iterator[str]:
    embedded = EmbeddedPostgres()
    dsn = embedded.start(root / "pg")
    try:
        yield dsn
    finally:
        embedded.stop()


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    ready_s: float
    demo_id: str = ""
    log: Path | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_base(self) -> str:
        return self.base.replace("http://", "ws://")


def _taskset(cpu: str | None) -> list[str]:
    return ["taskset", "-c", cpu] if cpu is not None and shutil.which("taskset") else []


def _wait_ready(
    base: str, process: subprocess.Popen[bytes], started: float, path: str, log: Path | None
) -> float:
    with httpx.Client(timeout=1) as client:
        while time.perf_counter() - started < 60:
            if process.poll() is not None:
                tail = log.read_text()[-2000:] if log and log.exists() else ""
                raise SystemExit(f"the server exited with {process.returncode}\n{tail}")
            try:
                if client.get(f"{base}{path}").status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.005)
    raise SystemExit("the server was not ready within 60 s")


def service_env(port: int, data_dir: Path, dsn: str | None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "HUB_BACKEND", "DEMO_RELAY_CONFIG", "TAVUS_API_KEY", "SUPABASE_URL"}
    }
    env.update(
        PORT=str(port),
        DATA_DIR=str(data_dir),
        TAVUS_WEBHOOK_SECRET=SECRET,
        ADMIN_TOKEN=ADMIN,
        APP_SECRET=APP_SECRET,
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        RATE_LIMIT_SESSIONS_PER_MIN="1000000",
        RATE_LIMIT_BRIDGE_PER_MIN="1000000",
        WS_MAX_PER_CLIENT="100000",
        WS_MAX_PER_TOKEN="100000",  # watch sessions minted in the same second carry the same token
    )
    if dsn is not None:
        env["DATABASE_URL"] = dsn
    env.update(extra)
    return env


@contextmanager
def serve(data_dir: Path, dsn: str | None, *, cpu: str | None = SERVER_CPU, **extra: str) -> Iterator[Server]:
    """`demo-relay serve` on a free port until ready; its seeded demo's id filled in; stopped with SIGTERM."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"serve-{port}.log"
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*_taskset(cpu), str(BIN / "demo-relay"), "serve"],
            env=service_env(port, data_dir, dsn, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = _wait_ready(base, process, started, "/readyz", log)
        server = Server(base, process, ready, log=log)
        demos = httpx.get(f"{base}/api/demos", headers=owner(), timeout=10).json()
        server.demo_id = demos[0]["id"] if isinstance(demos, list) else demos["demos"][0]["id"]
        yield server
    finally:
        stop(process)


@contextmanager
def bare(cpu: str | None = SERVER_CPU) -> Iterator[Server]:
    """The baseline: a bare Litestar POST answering {"ok": true} on the same server stack (bench.bare_app)."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*_taskset(cpu), sys.executable, "-m", "bench.bare_app"],
        env={**os.environ, "PORT": str(port)},
        cwd=Path(__file__).parent.parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        yield Server(base, process, _wait_ready(base, process, started, "/healthz", None))
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def new_conversation() -> str:
    return f"c{uuid.uuid4().hex[:15]}"


async def open_session(http: httpx.AsyncClient, server: Server, conversation_id: str | None) -> str:
    """A session (conversation_id None: an owner's watch session); its WebSocket URL with the token."""
    if conversation_id is None:
        response = await http.post(f"{server.base}/api/demos/{server.demo_id}/watch", headers=owner())
    else:
        response = await http.post(
            f"{server.base}/api/demos/{server.demo_id}/sessions",
            headers=owner(),
            json={"conversation_id": conversation_id},
        )
    if response.status_code != 201:
        raise SystemExit(f"session refused: {response.status_code} {response.text}")
    ws = response.json()["websocket"]
    return f"{ws['url']}?token={ws['token']}"


@dataclass
class Results:
    """bench/results/latest.json: one section per script, with the machine and the time of the run."""

    section: str
    data: dict[str, Any] = field(default_factory=dict)

    def write(self) -> None:
        if SMOKE:
            return
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        document = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        document["machine"] = machine()
        document[self.section] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), **self.data}
        RESULTS.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": CPUS,
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "server_pinned_to_cpu": SERVER_CPU,
    }


def run(coro: Any) -> Any:
    """asyncio.run on uvloop when it is installed (the load generator must not be the bottleneck)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")
