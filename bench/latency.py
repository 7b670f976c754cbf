"""Question 2 — how long from a webhook sent to `play_video` received by a real WebSocket client, at a steady
50, 200 and 1,000 webhooks/s?

An open-loop generator (requests leave on a fixed schedule whatever the answers do, over a pool of
keep-alive connections; raw HTTP/1.1 on asyncio streams, on uvloop) POSTs signed play_video webhooks; a
WebSocket subscriber in the same process stamps each frame on arrival, so both ends read one clock. Reported:
webhook → frame p50/p95/p99/max, the HTTP answer's latency, errors, and the generator's own lag (how late a
request left against its schedule: when it grows, the numbers measure the generator, not the server). The
baseline is the same generator against the bare endpoint (`bench.bare_app`) on the same server stack: what
HTTP alone costs at that rate. Memory hub and Postgres hub, each on its own server.

Run: `make bench` (or `.venv/bin/python -m bench.latency`). Nothing here asserts a time."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import connect

from bench import harness as h

RATES = ((50, 10), (200, 10), (1000, 5)) if not h.SMOKE else ((50, 0.4), (200, 0.2), (1000, 0.05))
WARMUP = 200 if not h.SMOKE else 10


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs and reads the status and body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def request_bytes(host: str, body: bytes) -> bytes:
    return (
        f"POST /api/tavus-webhook HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"X-Tavus-Signature: {h.signature(body)}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class Run:
    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.delivered: list[float] = []
        self.answered: list[float] = []
        self.lag: list[float] = []
        self.errors = 0
        self.repeats = 0
        self.arrived: set[str] = set()


async def generate(base: str, bodies: list[tuple[str, bytes]], rate: float, run: Run) -> None:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    idle: list[Connection] = []
    pending: set[asyncio.Task[None]] = set()

    async def one(call_id: str, request: bytes) -> None:
        connection = idle.pop() if idle else await Connection.open(host, port)
        started = time.perf_counter()
        run.sent[call_id] = started
        try:
            status = await connection.exchange(request)
        except (OSError, asyncio.IncompleteReadError):
            run.errors += 1
            connection.close()
            return
        run.answered.append(time.perf_counter() - started)
        if status != 200:
            run.errors += 1
        idle.append(connection)

    requests = [(call_id, request_bytes(host, body)) for call_id, body in bodies]
    start = time.perf_counter() + 0.05
    for i, (call_id, request) in enumerate(requests):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        run.lag.append(max(0.0, time.perf_counter() - due))
        task = asyncio.create_task(one(call_id, request))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending, timeout=30)
    for connection in idle:
        connection.close()


async def subscribe(url: str, run_of: list[Run], ready: asyncio.Event) -> None:
    async with connect(url, max_queue=None, ping_interval=None) as ws:
        async for raw in ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("event") == "subscribed":
                ready.set()
            elif frame.get("event") == "play_video":
                run = run_of[0]
                call = frame["payload"]["tool_call_id"]
                sent = run.sent.get(call)
                if call in run.arrived:
                    run.repeats += 1
                elif sent is not None:
                    run.arrived.add(call)
                    run.delivered.append(now - sent)


def row(run: Run, count: int) -> dict[str, Any]:
    return {
        "webhooks": count,
        "errors": run.errors,
        "frames_missing": (count - len(run.arrived)) if run.delivered or run.sent else None,
        "frames_repeated": run.repeats,
        "webhook_to_frame": h.summary_ms(run.delivered),
        "http_answer": h.summary_ms(run.answered),
        "generator_lag": h.summary_ms(run.lag),
    }


async def against_service(server: h.Server, label: str) -> dict[str, Any]:
    conversation = h.new_conversation()
    async with httpx.AsyncClient(timeout=10) as http:
        url = await h.open_session(http, server, conversation)
    current = [Run()]
    ready = asyncio.Event()
    follow = asyncio.create_task(subscribe(url, current, ready))
    await asyncio.wait_for(ready.wait(), 10)
    warm = [(f"{label}-warm-{i}", h.play_body(conversation, f"{label}-warm-{i}")) for i in range(WARMUP)]
    await generate(server.base, warm, 200, current[0])
    results: dict[str, Any] = {}
    for rate, seconds in RATES:
        count = max(5, int(rate * seconds))
        current[0] = run = Run()
        bodies = [
            (f"{label}-{rate}-{i}", h.play_body(conversation, f"{label}-{rate}-{i}")) for i in range(count)
        ]
        await generate(server.base, bodies, rate, run)
        await asyncio.sleep(0.5)  # the last frames
        results[str(rate)] = row(run, count)
    follow.cancel()
    return results


async def against_bare(server: h.Server) -> dict[str, Any]:
    results: dict[str, Any] = {}
    warm = Run()
    await generate(server.base, [(f"w{i}", b"{}") for i in range(WARMUP)], 200, warm)
    for rate, seconds in RATES:
        count = max(5, int(rate * seconds))
        run = Run()
        await generate(server.base, [(f"b{i}", b"{}") for i in range(count)], rate, run)
        results[str(rate)] = {
            "webhooks": count,
            "errors": run.errors,
            "http_answer": h.summary_ms(run.answered),
            "generator_lag": h.summary_ms(run.lag),
        }
    return results


async def main_async(root: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with h.bare() as server:
        results["bare"] = await against_bare(server)
    with h.postgres(root) as dsn:
        for hub in ("memory", "postgres"):
            with h.serve(root / "app", dsn, HUB_BACKEND=hub) as server:
                results[f"{hub}_hub"] = await against_service(server, hub)
    return results


def report(results: dict[str, Any]) -> None:
    print("latency: open-loop webhooks at a fixed rate, keep-alive; webhook sent → play_video on a WebSocket")
    print(
        f"  {'rate/s':>6} {'path':14} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  (ms)"
        "  errors  lost  lag p99"
    )
    for rate, _ in RATES:
        bare = results["bare"][str(rate)]
        b = bare["http_answer"]
        print(
            f"  {rate:6d} {'bare HTTP':14} {b['p50_ms']:7.2f} {b['p95_ms']:7.2f} {b['p99_ms']:7.2f} "
            f"{b['max_ms']:7.2f}        {bare['errors']:6d}     -  {bare['generator_lag']['p99_ms']:6.2f}"
        )
        for hub in ("memory", "postgres"):
            r = results[f"{hub}_hub"][str(rate)]
            d = r["webhook_to_frame"]
            if not d.get("n"):
                print(f"  {rate:6d} {hub + ' hub':14} no frames arrived")
                continue
            print(
                f"  {rate:6d} {hub + ' hub':14} {d['p50_ms']:7.2f} {d['p95_ms']:7.2f} {d['p99_ms']:7.2f} "
                f"{d['max_ms']:7.2f}        {r['errors']:6d} {r['frames_missing']:5d}  "
                f"{r['generator_lag']['p99_ms']:6.2f}"
            )
            r["p50_ratio_to_bare_http"] = h.ratio(d["p50_ms"], b["p50_ms"])


def main() -> None:
    h.pin_self_to_load_cpus()
    with tempfile.TemporaryDirectory(prefix="demo-relay-bench-") as tmp:
        results = h.run(main_async(Path(tmp)))
    report(results)
    h.Results("latency", {"rates": [{"per_s": r, "seconds": s} for r, s in RATES], **results}).write()


if __name__ == "__main__":
    main()
