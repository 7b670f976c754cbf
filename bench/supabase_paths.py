"""Benchmarks of the Supabase adapters against the local protocol-faithful Supabase (loopback, in the same
process and event loop), with baselines measured in the same run. Nothing here asserts a time.

1. Signed-URL cache: `SupabaseVideoStorage.url_for` for one video, cache warm, against the same call with
   the cache emptied before each call (one `POST /object/sign` round trip through storage3 each time).
   The ratio is what the cache saves per webhook.
2. Burst: 50 concurrent `url_for` calls for one video on a cold cache: Storage calls made (single-flight
   should make it 1) and wall time, against 50 sequential cold calls.
3. Realtime broadcast: `SupabaseRealtimeNotifier.publish` (one REST round trip, retries armed) against the
   in-memory hub's `publish` to one subscriber: what choosing `supabase` costs a webhook on loopback (a real
   project adds the network's round trip on top).

Run: `make bench` (or `.venv/bin/python -m bench.supabase_paths`)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx

from demo_relay.adapters.clock import SystemClock
from demo_relay.adapters.notifiers.supabase_realtime import SupabaseRealtimeNotifier
from demo_relay.adapters.notifiers.websocket_hub import HubNotifier, WebSocketHub
from demo_relay.adapters.storage.supabase import SupabaseVideoStorage
from demo_relay.adapters.supabase_connection import SupabaseConnection
from demo_relay.domain.models import ChannelEvent, DemoVideo, EventName
from tests.support.supabase import running_fake_supabase

CALLS = 300
BURST = 50
BUCKET = "demo-videos"
VIDEO = DemoVideo("v1", "d1", "Product Overview", "d1/product-overview.mp4", 6.0)


async def timed(calls: int, one: Callable[[], Awaitable[object]]) -> list[float]:
    samples: list[float] = []
    for _ in range(calls):
        t = time.perf_counter()
        await one()
        samples.append(time.perf_counter() - t)
    return samples


async def main() -> None:
    async with running_fake_supabase(buckets=(BUCKET,)) as supabase:
        supabase.fake.put_object(BUCKET, VIDEO.storage_path, b"\0" * 1024)
        connection = SupabaseConnection(supabase.url, supabase.service_key)
        try:
            storage = SupabaseVideoStorage(connection.storage, BUCKET, "signed", 3600, SystemClock())

            async def cold() -> None:
                storage._cache.clear()  # the bench measures the miss path on purpose
                await storage.url_for(VIDEO)

            await cold()
            miss = await timed(CALLS, cold)
            hit = await timed(CALLS, lambda: storage.url_for(VIDEO))
            m50, h50 = statistics.median(miss), statistics.median(hit)
            print(f"signed URL for one video (n={CALLS}, median)")
            print(f"  baseline: cache emptied each call (sign round trip)  {m50 * 1e6:9.1f} µs")
            print(f"  cache warm                                         {h50 * 1e6:9.1f} µs")
            print(f"  ratio miss/hit                                     {m50 / h50:9.0f}x")

            storage._cache.clear()
            before = supabase.fake.stats.sign_total
            t = time.perf_counter()
            await asyncio.gather(*(storage.url_for(VIDEO) for _ in range(BURST)))
            burst_s = time.perf_counter() - t
            burst_calls = supabase.fake.stats.sign_total - before
            t = time.perf_counter()
            for _ in range(BURST):
                await cold()
            sequential_s = time.perf_counter() - t
            print(f"burst of {BURST} concurrent requests, cold cache")
            print(f"  Storage sign calls made        {burst_calls:5d}   (sequential cold: {BURST})")
            print(
                f"  wall time {burst_s * 1e3:7.2f} ms   baseline {BURST} sequential cold calls "
                f"{sequential_s * 1e3:7.2f} ms   ratio {sequential_s / burst_s:5.1f}x"
            )

            async with httpx.AsyncClient() as http:
                realtime = SupabaseRealtimeNotifier(http, supabase.url, supabase.service_key, False)
                hub = WebSocketHub(SystemClock(), queue_size=CALLS + 10)
                subscription = hub.subscribe("demo-d1")
                hub_notifier = HubNotifier(hub)
                event = ChannelEvent(
                    "demo-d1", EventName.PLAY_VIDEO, {"url": "https://x/y.mp4"}, "e1", datetime.now(UTC), 11.0
                )
                base = await timed(CALLS, lambda: hub_notifier.publish(event))
                remote = await timed(CALLS, lambda: realtime.publish(event))
                while not subscription.queue.empty():
                    subscription.queue.get_nowait()
                b50, r50 = statistics.median(base), statistics.median(remote)
                print(f"publish one play_video (n={CALLS}, median)")
                print(f"  baseline: in-memory hub, one subscriber      {b50 * 1e6:9.1f} µs")
                print(f"  Supabase Realtime REST broadcast (loopback)  {r50 * 1e6:9.1f} µs")
                print(f"  ratio                                        {r50 / b50:9.0f}x")
        finally:
            await connection.aclose()


if __name__ == "__main__":
    asyncio.run(main())
