"""Retention of the delivery ledger: deliveries older than the retention are forgotten, so
`webhook_events` does not grow forever. The retention is also how long a repeat of a delivery without a
signed timestamp (X-Tavus-Signature, the URL token) is still recognised as a duplicate, hence a floor of a
day on the setting."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from demo_relay.domain.errors import DomainError
from demo_relay.domain.ports import Clock, DeliveryLedger

log = logging.getLogger(__name__)


@dataclass
class PurgeDeliveries:
    ledger: DeliveryLedger
    clock: Clock
    retention_s: float

    async def execute(self, older_than_s: float | None = None) -> int:
        """Forgets deliveries older than `older_than_s` (default: the retention); how many."""
        age = self.retention_s if older_than_s is None else older_than_s
        return await self.ledger.purge(self.clock.now() - timedelta(seconds=age))

    async def run_every(self, interval_s: float) -> None:
        """The automatic retention: purge now and then every `interval_s`, until cancelled. A failed
        purge (the database away for a while) is logged and tried again at the next turn."""
        while True:
            try:
                removed = await self.execute()
                if removed:
                    days = self.retention_s / 86400
                    log.info("retention: forgot %d deliveries older than %g days", removed, days)
            except DomainError as exc:
                log.warning("retention purge failed: %s", exc.message)
            except Exception:  # never let one odd failure end the retention for the life of the process
                log.exception("retention purge failed")
            await asyncio.sleep(interval_s)
