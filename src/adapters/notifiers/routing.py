"""Per-session transport choice: NOTIFIER is the default, NOTIFIER_SESSIONS overrides it per channel.

`both` publishes on Supabase Realtime first and then on the hub: the remote transport is the one that can
fail, and when it does nothing has been sent anywhere (TransportUnavailable, 502, the delivery stays
retryable), so a retry never shows hub viewers the same video twice. The hub only enqueues in memory, so
going one after the other costs no latency. The event id is stable across retries either way."""

from __future__ import annotations

from collections.abc import Mapping

from demo_relay.domain.errors import ConfigurationError
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
        delivered: list[str] = []
        for target in _expand(self._table.transport_for(event.channel)):
            delivered.extend(await self._notifiers[target].publish(event))
        return tuple(delivered)


def _expand(transport: Transport) -> tuple[Transport, ...]:
    if transport is Transport.BOTH:
        return (Transport.SUPABASE, Transport.WEBSOCKET)  # the one that can fail goes first
    return (transport,)
