"""Benchmarks that print numbers and ratios against baselines measured in the same run.

1. Webhook latency: signed play_video webhooks through the real app over a real socket (uvicorn, embedded
   Postgres, local storage, hub with subscribers), against GET /healthz on the same server as the baseline
   (the cost of HTTP + framework alone). The ratio is what verify → claim → resolve → URL → publish costs.
2. Hub fan-out: one publish to N subscribers (encode once, put_nowait each), against a bare loop of
   `put_nowait` of a pre-encoded frame into N queues (the floor).
3. Start-up: `demo-relay serve` from process start to /readyz 200 (embedded Postgres already initialised),
   against `python -c pass` as the baseline of process start.

Run: `make bench` (or `.venv/bin/python -m bench.webhook_throughput`). Nothing here asserts a time."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from demo_relay.adapters.clock import SystemClock
from demo_relay.adapters.notifiers.websocket_hub import WebSocketHub
from demo_relay.adapters.postgres.embedded import EmbeddedPostgres
from demo_relay.domain.models import ChannelEvent, EventName
from tests.support.app import CONVERSATION, SeededApp, make_settings, owner_headers, tavus_headers
from tests.support.server import free_port, running

BENCH_SECRET = "bench-secret-0123456789"
REQUESTS = 300
SUBSCRIBERS = (10, 100, 1000)


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def webhook_latency(dsn: str, data_dir: Path) -> None:
    port = free_port()
    seeded = SeededApp(make_settings(data_dir, dsn, port=port), dsn)
    async with running(seeded.app, port) as base, httpx.AsyncClient(base_url=base) as http:
        await http.post(
            f"/api/demos/{seeded.demo_id}/sessions",
            headers=owner_headers(),
            json={"conversation_id": CONVERSATION},
        )
        baseline: list[float] = []
        for _ in range(REQUESTS):
            t = time.perf_counter()
            await http.get("/healthz")
            baseline.append(time.perf_counter() - t)
        measured: list[float] = []
        for i in range(REQUESTS):
            body = json.dumps(
                {
                    "event_type": "conversation.tool_call",
                    "conversation_id": CONVERSATION,
                    "properties": {
                        "name": "play_video",
                        "tool_call_id": f"bench_{i}_{time.time_ns()}",
                        "arguments": json.dumps({"video_title": "pricing walkthrough"}),
                    },
                }
            ).encode()
            t = time.perf_counter()
            response = await http.post("/api/tavus-webhook", content=body, headers=tavus_headers(body))
            measured.append(time.perf_counter() - t)
            assert response.status_code == 200, response.text
    b50, m50 = statistics.median(baseline), statistics.median(measured)
    print(f"webhook (n={REQUESTS}, sequential, one client)")
    print(f"  baseline GET /healthz       p50 {b50 * 1e3:6.2f} ms  p95 {pct(baseline, 0.95) * 1e3:6.2f} ms")
    print(f"  signed play_video webhook   p50 {m50 * 1e3:6.2f} ms  p95 {pct(measured, 0.95) * 1e3:6.2f} ms")
    print(f"  ratio p50 webhook/healthz   {m50 / b50:6.2f}x   throughput {1 / m50:7.0f} webhooks/s")


async def hub_fanout() -> None:
    print("hub fan-out: one publish to N subscribers (median of 50)")
    for n in SUBSCRIBERS:
        hub = WebSocketHub(SystemClock(), queue_size=256)
        subs = [hub.subscribe("demo-bench") for _ in range(n)]
        queues: list[asyncio.Queue[str]] = [asyncio.Queue(256) for _ in range(n)]
        frame = "x" * 400
        base_t, hub_t = [], []
        for i in range(50):
            t = time.perf_counter()
            for q in queues:
                q.put_nowait(frame)
            base_t.append(time.perf_counter() - t)
            event = ChannelEvent(
                "demo-bench",
                EventName.PLAY_VIDEO,
                {"url": "https://x/y.mp4", "i": i},
                str(i),
                datetime.now(UTC),
                15.0,
            )
            t = time.perf_counter()
            hub.publish(event)
            hub_t.append(time.perf_counter() - t)
            for q in queues:
                q.get_nowait()
            for s in subs:
                s.queue.get_nowait()
        b, h = statistics.median(base_t), statistics.median(hub_t)
        print(f"  N={n:5d}  floor {b * 1e6:8.1f} µs   hub.publish {h * 1e6:8.1f} µs   ratio {h / b:5.2f}x")


def startup(data_dir: Path, label: str) -> None:
    bin_dir = Path(sys.executable).parent
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    baseline = time.perf_counter() - t
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATA_DIR": str(data_dir), "TAVUS_WEBHOOK_SECRET": BENCH_SECRET}
    env.pop("DATABASE_URL", None)
    t = time.perf_counter()
    process = subprocess.Popen(
        [str(bin_dir / "demo-relay"), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - t > 60:
                raise SystemExit("serve did not become ready within 60 s")
            time.sleep(0.05)
        ready = time.perf_counter() - t
    finally:
        process.terminate()
        process.wait(20)
    print(f"start-up, {label}")
    print(f"  baseline python -c pass     {baseline:6.2f} s")
    print(f"  demo-relay serve → /readyz  {ready:6.2f} s   ratio {ready / baseline:5.1f}x   (target < 5 s)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="demo-relay-bench-") as tmp:
        root = Path(tmp)
        embedded = EmbeddedPostgres()
        dsn = embedded.start(root / "bench-db")
        try:
            asyncio.run(webhook_latency(dsn, root / "app"))
        finally:
            embedded.stop()
        asyncio.run(hub_fanout())
        serve_dir = root / "serve"
        startup(serve_dir, "first run: initdb + migrations + seed")
        startup(serve_dir, "later runs: the cluster exists (every `make run` after the first)")


if __name__ == "__main__":
    main()
