"""The loop every long-lived connection of ours runs (the hub's relay, the catalog's LISTEN): connect and
hold until it is lost, then again after a backoff that doubles up to a bound and starts over after a
connection that held."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

FIRST_BACKOFF_S = 0.1


async def reconnecting(
    hold: Callable[[], Awaitable[None]],
    *,
    on_lost: Callable[[Exception | None], None],
    max_backoff_s: float,
) -> None:
    """Runs `hold` until cancelled; after each return or failure (`on_lost` is told which), waits and
    runs it again."""
    backoff = FIRST_BACKOFF_S
    while True:
        error: Exception | None = None
        try:
            await hold()
            backoff = FIRST_BACKOFF_S
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # refused, reset, terminated: the next round reconnects
            error = exc
        on_lost(error)
        await asyncio.sleep(backoff)
        backoff = min(max_backoff_s, backoff * 2)
