"""What every delivery goes through once it is known to be for us: claim its dedupe key, run its handler,
settle the outcome. A key that is claimed (in flight or done) is a duplicate and sends nothing; a handler
that fails releases the claim with the failure recorded, so a retry is evaluated afresh (the video may
have been added meanwhile, the transport may be back)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from demo_relay.domain.errors import DomainError
from demo_relay.domain.models import Duplicate, LifecycleEvent, Played, Recorded, ToolCall
from demo_relay.domain.ports import ClaimResult, DeliveryLedger, DeliveryRecord, DemoCatalog
from demo_relay.domain.use_cases.dedupe import event_id

log = logging.getLogger(__name__)

Outcome = TypeVar("Outcome", bound=Played | Recorded | Duplicate)


class Settle(Protocol):
    """Records the handler's outcome as the delivery's; hands it back."""

    def __call__(self, outcome: Outcome) -> Outcome: ...


# What the ledger records of a delivery's outcome (a lifecycle event that repeats a recorded end is a
# `duplicate` found by the handler, not by the claim).
_STATUS = {Played: "played", Recorded: "recorded", Duplicate: "duplicate"}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed delivery: its dedupe key, and what the request says about its demo."""

    key: str
    demo_hint: str | None = None  # ?demo_id= on the webhook URL (per-demo callback URLs)
    bound_demo_id: str | None = None  # the demo a session token binds a bridged tool call to
    # What the event id derives from when it is not the key: a bridged call's key is namespaced, yet the
    # same tool call delivered both ways must reach the page with one id, so the page shows it once.
    event_key: str | None = None

    @property
    def event_id(self) -> str:
        """The id of the channel events this delivery sends: a retried delivery carries the same one."""
        return event_id(self.event_key or self.key)


def record_of(event: ToolCall | LifecycleEvent, key: str, document: Any) -> DeliveryRecord:
    event_type = f"tool_call.{event.name}" if isinstance(event, ToolCall) else event.event_type
    payload: Mapping[str, Any] | None = document if isinstance(document, dict) else None
    return DeliveryRecord(key, event_type, event.conversation_id, payload)


@dataclass
class Deliveries:
    """The ledger around one delivery:

        if not await deliveries.claim(record):
            return Duplicate(record.dedupe_key)
        async with deliveries.settling(record.dedupe_key) as settle:
            return settle(await handler(...))

    `settle` records the outcome when the handler returns it; an exception releases the claim with the
    failure recorded, and propagates."""

    ledger: DeliveryLedger

    async def claim(self, record: DeliveryRecord) -> bool:
        """False when the key is claimed already (in flight or done): the delivery is a duplicate."""
        return await self.ledger.claim(record) is ClaimResult.CLAIMED

    @asynccontextmanager
    async def settling(self, key: str) -> AsyncIterator[Settle]:
        settled: list[Played | Recorded | Duplicate] = []

        def settle(outcome: Outcome) -> Outcome:
            settled.append(outcome)
            return outcome

        try:
            yield settle
        except DomainError as exc:
            await self._release(key, exc.code, exc.message)
            raise
        except BaseException as exc:  # a bug, or the request cancelled (client gone, shutdown)
            # Released even when cancelled: a claim left 'processing' would answer Tavus's retry with
            # `duplicate` for the whole lease, and the video would never play.
            await asyncio.shield(self._release(key, "internal_error", type(exc).__name__))
            raise
        if not settled:
            await self._release(key, "internal_error", "no outcome")
            raise RuntimeError("a claimed delivery ended without an outcome")  # a bug of the caller
        await self.ledger.complete(key, _STATUS[type(settled[0])])

    async def _release(self, key: str, status: str, error: str) -> None:
        try:
            await self.ledger.fail(key, status, error)
        except DomainError:  # the ledger is down too; the original error is the one to report
            log.warning("could not record the failure of delivery %s", key)


async def hinted_demo(catalog: DemoCatalog, delivery: Delivery) -> str | None:
    """The demo the webhook URL's ?demo_id= names, when it names one that exists."""
    if not delivery.demo_hint:
        return None
    demo = await catalog.get_demo(delivery.demo_hint)
    return demo.id if demo else None
