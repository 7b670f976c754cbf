"""Cross-instance delivery (HUB_BACKEND=postgres): a signed webhook posted to instance A, until the
`play_video` frame reaches a WebSocket subscriber on instance B, against the same webhook reaching a
subscriber on A itself (same instance) in the same run, and against HUB_BACKEND=memory on one instance (no
database between the webhook and the socket) as the baseline. Two instances of the real app on real uvicorn
sockets, one embedded Postgres; sequential webhooks, one client.

Run: `make bench` (or `.venv/bin/python -m bench.cross_instance`). Nothing here asserts a time."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench import harness as h
from demo_relay.adapters.postgres.embedded import EmbeddedPostgres
from tests.support.app import SeededApp, make_settings, owner_headers, tavus_headers
from tests.support.server import free_port, running

REQUESTS = 5 if h.SMOKE else 300


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def subscriber(http: httpx.AsyncClient, demo_id: str, conversation_id: str) -> ClientConnection:
    opened = await http.post(
        f"/api/demos/{demo_id}/sessions", headers=owner_headers(), json={"conversation_id": conversation_id}
    )
    assert opened.status_code == 201, opened.text
    session = opened.json()
    ws = await connect(f"{session['websocket']['url']}?token={session['websocket']['token']}")
    assert json.loads(await ws.recv())["event"] == "subscribed"
    return ws


async def measure(
    post_to: httpx.AsyncClient, receiver: ClientConnection, conversation_id: str, label: str
) -> list[float]:
    samples: list[float] = []
    for i in range(REQUESTS):
        body = json.dumps(
            {
                "event_type": "conversation.tool_call",
                "conversation_id": conversation_id,
                "properties": {
                    "name": "play_video",
                    "tool_call_id": f"x_{label}_{i}_{time.time_ns()}",
                    "arguments": json.dumps({"video_title": "Pricing Walkthrough"}),
                },
            }
        ).encode()
        t = time.perf_counter()
        response = await post_to.post("/api/tavus-webhook", content=body, headers=tavus_headers(body))
        assert response.status_code == 200, response.text
        await asyncio.wait_for(receiver.recv(), 10)
        samples.append(time.perf_counter() - t)
    return samples


async def run(dsn: str, root: Path) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    async with AsyncExitStack() as stack:
        port = free_port()
        single = SeededApp(make_settings(root / "memory", dsn, port=port), dsn)
        base = await stack.enter_async_context(running(single.app, port))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=base))
        ws = await subscriber(http, single.demo_id, "c-bench-memory")
        results["memory hub, one instance"] = await measure(http, ws, "c-bench-memory", "memory")
        await ws.close()
    async with AsyncExitStack() as stack:
        clients = []
        seeded = []
        for _ in range(2):
            port = free_port()
            app = SeededApp(make_settings(root / "shared", dsn, port=port, hub_backend="postgres"), dsn)
            base = await stack.enter_async_context(running(app.app, port))
            clients.append(await stack.enter_async_context(httpx.AsyncClient(base_url=base)))
            seeded.append(app)
        for app in seeded:
            await asyncio.wait_for(app.container.hub_relay().connected.wait(), 10)
        demo_id = seeded[0].demo_id
        conversation = "c-bench-shared"
        on_a = await subscriber(clients[0], demo_id, conversation)
        results["postgres hub, webhook on A → subscriber on A"] = await measure(
            clients[0], on_a, conversation, "same"
        )
        await on_a.close()
        # Subscribed only now: it must wait for each frame, not read ones queued during the first run.
        on_b = await subscriber(clients[1], demo_id, conversation)
        await asyncio.wait_for(on_b.recv(), 5)  # the late join's current video
        results["postgres hub, webhook on A → subscriber on B"] = await measure(
            clients[0], on_b, conversation, "cross"
        )
        await on_b.close()
    return results


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="demo-relay-bench-x-") as tmp:
        root = Path(tmp)
        embedded = EmbeddedPostgres()
        dsn = embedded.start(root / "db")
        try:
            results = asyncio.run(run(dsn, root))
        finally:
            embedded.stop()
    baseline = pct(results["memory hub, one instance"], 0.5)
    print(f"cross-instance: webhook sent → play_video received (n={REQUESTS} each, sequential, one client)")
    section: dict[str, object] = {"requests": REQUESTS}
    for label, samples in results.items():
        p50, p99 = pct(samples, 0.5), pct(samples, 0.99)
        ratio = p50 / baseline
        print(f"  {label:48s} p50 {p50 * 1e3:6.2f} ms  p99 {p99 * 1e3:6.2f} ms  p50 ratio {ratio:5.2f}x")
        section[label] = {**h.summary_ms(samples), "p50_ratio_to_memory_hub": round(ratio, 3)}
    h.Results("cross_instance", section).write()


if __name__ == "__main__":
    main()
