"""Prometheus metrics (GET /metrics). One registry per app, so tests and several apps in one process
never collide on the global registry."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from demo_relay.adapters.notifiers.websocket_hub import WebSocketHub
from demo_relay.domain.errors import DomainError


class _HubCollector(Collector):
    """Reads the hub's state at scrape time instead of keeping a second copy of it."""

    def __init__(self, hub: WebSocketHub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "demo_relay_ws_connections", "Open WebSocket subscriptions", value=self._hub.connection_count()
        )


METRICS_STATE = "metrics"  # the app's Metrics in its state, for the hot path (webhook.py)


class Metrics:
    def __init__(self, hub: WebSocketHub) -> None:
        self.registry = CollectorRegistry()
        self.webhooks = Counter(
            "demo_relay_webhooks", "Webhook deliveries by outcome", ["outcome"], registry=self.registry
        )
        self.latency = Histogram(
            "demo_relay_webhook_seconds",
            "Webhook handling time",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.registry.register(_HubCollector(hub))

    @contextmanager
    def track_webhook(self) -> Iterator[Callable[[str], None]]:
        started = time.perf_counter()
        outcome = ["error"]
        try:
            yield lambda name: outcome.__setitem__(0, name)
        except DomainError as exc:
            outcome[0] = exc.code
            raise
        finally:
            self.latency.observe(time.perf_counter() - started)
            self.webhooks.labels(outcome=outcome[0]).inc()


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(metrics: NamedDependency[Metrics]) -> Response[Any]:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
