"""Question 3 — what do many live WebSockets cost one instance?

5,000 viewer sockets over 2,500 conversations of one demo (two per conversation: a prospect's page open
twice) and 1,000 owner watch sessions on a second demo, all on one `demo-relay serve` (memory hub). Reported:
- RSS per idle connection: the server's RSS with every socket open and settled, minus its RSS before, over
  the number of sockets; the baseline is the same count of sockets on a bare Litestar WebSocket route that
  only waits (`bench.bare_app`) on the same server stack, measured in the same run;
- idle CPU with every socket open (pings, timers);
- under webhook load: viewers (webhooks to random conversations: 2 deliveries each) and fan-out (webhooks to
  the watched demo: 1,000 deliveries each): deliveries/s received, webhook → frame lag p50/p99/max at the
  clients, and server CPU per delivery (the server's CPU seconds over the phase / the deliveries; the
  webhooks' own cost is included, so it is an upper bound).

Run: `make bench` (or `.venv/bin/python -m bench.sockets`). Nothing here asserts a time."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import resource
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench import harness as h
from bench.latency import Run, generate

CONVERSATIONS = 10 if h.SMOKE else 2_500
PER_CONVERSATION = 2
WATCHERS = 10 if h.SMOKE else 1_000
VIEWER_RATE, VIEWER_S = (50, 0.2) if h.SMOKE else (200, 5)
FANOUT_RATE, FANOUT_S = (5, 0.4) if h.SMOKE else (10, 5)
SETTLE_S = 0.2 if h.SMOKE else 3.0
SAMPLE = Path(h.__file__).parent.parent / "src" / "adapters" / "samples" / "product-overview.mp4"


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def bounded(jobs: list[Callable[[], Awaitable[Any]]], limit: int = 32) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


class Clients:
    """Every client socket, each read by its own task, stamping play_video frames on arrival."""

    def __init__(self) -> None:
        self.sockets: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.run = Run()
        self.deliveries = 0

    async def open(self, url: str) -> None:
        ws = await connect(url, max_queue=None, ping_interval=None, open_timeout=30)
        first = json.loads(await ws.recv())
        if first.get("event") != "subscribed":
            raise SystemExit(f"unexpected first frame {first}")
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                now = time.perf_counter()
                if '"play_video"' not in raw:
                    continue
                frame = json.loads(raw)
                sent = self.run.sent.get(frame["payload"]["tool_call_id"])
                if sent is not None:
                    self.deliveries += 1
                    self.run.delivered.append(now - sent)
        except Exception:
            return

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await bounded([ws.close for ws in self.sockets], 256)


async def idle_sockets_on_bare() -> dict[str, Any]:
    count = CONVERSATIONS * PER_CONVERSATION + WATCHERS
    with h.bare() as server:
        await asyncio.sleep(0.5)
        before = h.rss_kb(server.pid)
        clients = Clients()
        await bounded([lambda: clients.open(f"{server.ws_base}/ws/bare") for _ in range(count)])
        await asyncio.sleep(SETTLE_S)
        after = h.rss_kb(server.pid)
        await clients.close()
    return {
        "sockets": count,
        "rss_before_kb": before,
        "rss_after_kb": after,
        "kb_per_socket": (after - before) / count,
    }


def loopback_send_floor(size: int = 450, count: int = 20_000 if not h.SMOKE else 200) -> float:
    """The kernel's share of a delivery: CPU µs per `send()` of a frame-sized buffer on a loopback TCP
    connection, to a peer thread that drains it (on loopback the receiving side's work is charged to the
    sender too). The floor under "server CPU per delivery": one write per socket is unavoidable."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    sender = socket.create_connection(server.getsockname())
    receiver, _ = server.accept()

    def drain() -> None:
        while receiver.recv(1 << 20):
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    data = b"x" * size
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(count):
        sender.sendall(data)
    after = resource.getrusage(resource.RUSAGE_SELF)
    sender.close()
    reader.join(5)
    receiver.close()
    server.close()
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used / count * 1e6


async def second_demo(http: httpx.AsyncClient, server: h.Server) -> str:
    created = await http.post(f"{server.base}/api/demos", headers=h.owner(), json={"name": "Bench fan-out"})
    demo_id: str = created.json()["id"]
    uploaded = await http.post(
        f"{server.base}/api/demos/{demo_id}/videos",
        headers=h.owner(),
        files={"file": ("pricing.mp4", SAMPLE.read_bytes(), "video/mp4")},
        data={"title": h.TITLE},
    )
    if uploaded.status_code != 201:
        raise SystemExit(f"upload refused: {uploaded.status_code} {uploaded.text}")
    return demo_id


async def phase(
    server: h.Server, clients: Clients, bodies: list[tuple[str, bytes]], rate: float, expected: int
) -> dict[str, Any]:
    clients.run = run = Run()
    clients.deliveries = 0
    cpu_before, t0 = h.cpu_s(server.pid), time.perf_counter()
    await generate(server.base, bodies, rate, run)
    deadline = time.perf_counter() + 10
    while clients.deliveries < expected and time.perf_counter() < deadline:  # noqa: ASYNC110 (a poll)
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - t0
    cpu = h.cpu_s(server.pid) - cpu_before
    return {
        "webhooks": len(bodies),
        "webhooks_per_s": rate,
        "errors": run.errors,
        "deliveries_expected": expected,
        "deliveries": clients.deliveries,
        "deliveries_per_s": round(clients.deliveries / elapsed, 1),
        "lag": h.summary_ms(run.delivered),
        "server_cpu_s": round(cpu, 3),
        "server_cpu_us_per_delivery": round(cpu / clients.deliveries * 1e6, 2)
        if clients.deliveries
        else None,
        "generator_lag": h.summary_ms(run.lag),
    }


async def on_service(root: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with h.postgres(root) as dsn, h.serve(root / "app", dsn, HUB_BACKEND="memory") as server:
        async with httpx.AsyncClient(timeout=30) as http:
            watched = await second_demo(http, server)
            conversations = [h.new_conversation() for _ in range(CONVERSATIONS)]
            viewer_urls = await bounded([lambda c=c: h.open_session(http, server, c) for c in conversations])
            fanout_conversation = h.new_conversation()
            watch = h.Server(server.base, server.process, 0, watched)
            await h.open_session(http, watch, fanout_conversation)
            watcher_urls = await bounded([lambda: h.open_session(http, watch, None) for _ in range(WATCHERS)])
        warm = [(f"warm-{i}", h.play_body(conversations[0], f"warm-{i}")) for i in range(100)]
        await generate(server.base, warm, 200, Run())
        await asyncio.sleep(0.5)
        before = h.rss_kb(server.pid)
        clients = Clients()
        t = time.perf_counter()
        await bounded([lambda u=u: clients.open(u) for u in viewer_urls for _ in range(PER_CONVERSATION)])
        await bounded([lambda u=u: clients.open(u) for u in watcher_urls])
        connect_s = time.perf_counter() - t
        count = len(clients.sockets)
        # The client's own 6,000 connections must not pause it mid-measurement (a full collection walks
        # them all): the load generator's noise is not the server's lag.
        gc.collect()
        gc.freeze()
        gc.disable()
        await asyncio.sleep(SETTLE_S)
        after = h.rss_kb(server.pid)
        idle_cpu_before = h.cpu_s(server.pid)
        await asyncio.sleep(SETTLE_S)
        idle_cpu = h.cpu_s(server.pid) - idle_cpu_before
        results["idle"] = {
            "sockets": count,
            "viewer_sockets": CONVERSATIONS * PER_CONVERSATION,
            "watcher_sockets": WATCHERS,
            "connect_all_s": round(connect_s, 2),
            "rss_before_kb": before,
            "rss_after_kb": after,
            "kb_per_socket": (after - before) / count,
            "idle_cpu_percent": round(idle_cpu / SETTLE_S * 100, 2),
        }
        viewer_count = max(3, int(VIEWER_RATE * VIEWER_S))
        rng = random.Random(7)
        bodies = []
        for i in range(viewer_count):
            call = f"v-{i}"
            bodies.append((call, h.play_body(rng.choice(conversations), call)))
        results["viewers"] = await phase(
            server, clients, bodies, VIEWER_RATE, viewer_count * PER_CONVERSATION
        )
        fanout_count = max(2, int(FANOUT_RATE * FANOUT_S))
        bodies = [(f"f-{i}", h.play_body(fanout_conversation, f"f-{i}")) for i in range(fanout_count)]
        results["fanout"] = await phase(server, clients, bodies, FANOUT_RATE, fanout_count * WATCHERS)
        results["idle"]["rss_after_load_kb"] = h.rss_kb(server.pid)
        gc.enable()
        await clients.close()
    return results


def report(results: dict[str, Any]) -> None:
    bare, idle = results["bare_idle"], results["service"]["idle"]
    print(
        f"live sockets: {idle['viewer_sockets']} viewers over {CONVERSATIONS} conversations"
        f" + {WATCHERS} owners"
    )
    per, per_bare = idle["kb_per_socket"], bare["kb_per_socket"]
    print(
        f"  idle RSS per socket   bare Litestar WS {per_bare:6.1f} KB   demo-relay {per:6.1f} KB"
        f"   ratio {h.ratio(per, per_bare):.2f}x"
    )
    print(
        f"  connect all           {idle['connect_all_s']:.1f} s   idle CPU {idle['idle_cpu_percent']:.1f} %"
    )
    print(f"  loopback send() floor {results['loopback_send_floor_cpu_us']:.1f} µs CPU per 450-byte write")
    for name in ("viewers", "fanout"):
        r = results["service"][name]
        lag = r["lag"]
        print(
            f"  {name:8} {r['webhooks_per_s']:5}/s webhooks → {r['deliveries']}/{r['deliveries_expected']} "
            f"deliveries, {r['deliveries_per_s']:.0f}/s, lag p50 {lag.get('p50_ms', float('nan')):.1f} "
            f"p99 {lag.get('p99_ms', float('nan')):.1f} max {lag.get('max_ms', float('nan')):.1f} ms, "
            f"server CPU {r['server_cpu_us_per_delivery']} µs/delivery, errors {r['errors']}"
        )


async def main_async(root: Path) -> dict[str, Any]:
    return {
        "bare_idle": await idle_sockets_on_bare(),
        "loopback_send_floor_cpu_us": round(loopback_send_floor(), 2),
        "service": await on_service(root),
    }


def main() -> None:
    raise_fd_limit()
    h.pin_self_to_load_cpus()
    with tempfile.TemporaryDirectory(prefix="demo-relay-bench-") as tmp:
        results = h.run(main_async(Path(tmp)))
    report(results)
    h.Results("sockets", results).write()


if __name__ == "__main__":
    main()
