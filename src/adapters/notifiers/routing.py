"""Per-session transport choice: NOTIFIER is the default, NOTIFIER_SESSIONS overrides it per channel.

`both` publishes on every transport concurrently; the event counts as delivered only when all of them
took it, otherwise TransportUnavailable (502) and the delivery stays retryable. The event id is stable
across retries, so a browser that got it the first time can drop the repeat."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from demo_relay.domain.errors import ConfigurationError, TransportUnavailable
from demo_relay.domain.models import ChannelEvent, Transport
from demo_relay.domain.ports import Notifier


class TransportTable:
    """The TransportPolicy port: which transport a channel uses."""

    def __init__(self, default: Transport, overrides: Mapping[str, Transport]) -> None:
        self._default = default
        self._overrides = dict(overrides)

    def transport_for(self, channel: str) -> Transport:
        return self._overrides.get(channel, self._default)

    def transports_in_use(self) -> set[Transport]:
        return {self._default, *self._overrides.values()}


class RoutingNotifier:
    def __init__(self, table: TransportTable, notifiers: Mapping[Transport, Notifier]) -> None:
        for transport in table.transports_in_use():
            for needed in _expand(transport):
                if needed not in notifiers:
                    raise ConfigurationError(f"the {needed.value!r} notifier is selected but not configured")
        self._table = table
        self._notifiers = dict(notifiers)

    async def publish(self, event: ChannelEvent) -> tuple[str, ...]:
        targets = _expand(self._table.transport_for(event.channel))
        if len(targets) == 1:
            return await self._notifiers[targets[0]].publish(event)
        results = await asyncio.gather(
            *(self._notifiers[t].publish(event) for t in targets), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise TransportUnavailable(
                "not every transport took the event: " + "; ".join(str(f) for f in failures)
            )
        return tuple(name for r in results if not isinstance(r, BaseException) for name in r)


def _expand(transport: Transport) -> tuple[Transport, ...]:
    if transport is Transport.BOTH:
        return (Transport.WEBSOCKET, Transport.SUPABASE)
    return (transport,)
