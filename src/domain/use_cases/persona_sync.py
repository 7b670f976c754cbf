"""Persona sync: a demo's Tavus persona keeps exactly one play_video tool whose `video_title` enum is the
demo's current titles (its other tools are the owner's and stay). It runs off the request path: every
change of titles, name or persona makes the demo due (the catalog store does that with the change), and a
worker in each instance takes due demos, leased so that two instances never sync one demo at once. A
failed attempt is retried with capped exponential backoff; its error is the demo's `tavus.sync.error`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from demo_relay.domain.errors import AgentNotConfigured, DomainError, UnknownDemo
from demo_relay.domain.models import PLAY_VIDEO_TOOL, Demo, ToolDelivery, registry_tool_name
from demo_relay.domain.ports import Clock, DemoCatalog, PersonaSyncQueue, PersonaTools, SyncTask
from demo_relay.domain.use_cases.tool_definition import persona_tool

log = logging.getLogger(__name__)

FIRST_RETRY_S = 5.0
MAX_RETRY_S = 600.0
LEASE_S = 120.0  # longer than an attempt can take (a few calls of at most ~10 s each, with retries)
BATCH = 10


def retry_delay_s(failed_attempts: int, first_s: float = FIRST_RETRY_S) -> float:
    """5 s, 10 s, 20 s … at most 10 minutes: a persona that cannot be reached is not hammered."""
    return min(MAX_RETRY_S, first_s * 2.0 ** max(0, failed_attempts - 1))


@dataclass
class SyncPersonas:
    catalog: DemoCatalog
    queue: PersonaSyncQueue
    tools: PersonaTools | None  # None: Tavus is not configured (nothing to sync, "Sync now" refused)
    clock: Clock
    delivery: ToolDelivery
    webhook_url: str  # our webhook; the demo's id goes in its query
    poll_interval_s: float = 1.0
    first_retry_s: float = FIRST_RETRY_S

    async def sync_now(self, demo_id: str) -> Demo:
        """An owner's "Sync now": one attempt at once, whatever its schedule; the demo with its outcome.
        When another instance is syncing the demo right now, that attempt's outcome is the answer."""
        if self.tools is None:
            raise AgentNotConfigured("the Tavus integration is off (TAVUS_API_KEY is not set)")
        task = await self.queue.take(demo_id, self.clock.now(), LEASE_S)
        if task is not None:
            await self.attempt(task)
        demo = await self.catalog.get_demo(demo_id)
        if demo is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        return demo

    async def run_due(self) -> int:
        """One pass over the due demos; how many were attempted."""
        tasks = await self.queue.take_due(self.clock.now(), BATCH, LEASE_S)
        for task in tasks:
            await self.attempt(task)
        return len(tasks)

    async def run_forever(self) -> None:
        """The worker: due demos as they come, until cancelled. Survives any error of a pass."""
        while True:
            try:
                attempted = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is down, a bug: log, wait, go on
                log.warning("persona sync pass failed", exc_info=True)
                attempted = 0
            if attempted < BATCH:
                await asyncio.sleep(self.poll_interval_s)

    async def attempt(self, task: SyncTask) -> None:
        demo = await self.catalog.get_demo(task.demo_id)
        if demo is None:
            return  # deleted since it was taken
        try:
            await self._bring_in_step(demo, task)
        except DomainError as exc:
            attempts = task.attempts + 1
            retry_at = self.clock.now() + timedelta(seconds=retry_delay_s(attempts, self.first_retry_s))
            log.warning("persona sync of demo %s failed (attempt %d): %s", demo.id, attempts, exc.message)
            await self.queue.failed(task, f"{exc.code}: {exc.message}", retry_at)
            return
        await self.queue.succeeded(task, demo.tavus_persona_id, self.clock.now())

    async def _bring_in_step(self, demo: Demo, task: SyncTask) -> None:
        tools = self.tools
        if tools is None:
            raise AgentNotConfigured("the Tavus integration is off (TAVUS_API_KEY is not set)")
        persona = demo.tavus_persona_id
        ours = {PLAY_VIDEO_TOOL, registry_tool_name(demo.id)}
        left = task.synced_persona_id
        if left is not None and left != persona:
            for name in ours:  # the persona the demo left keeps nothing of ours
                await tools.uninstall(left, name)
        if persona is None:
            return
        tool = persona_tool(demo, self.delivery, f"{self.webhook_url}?demo_id={demo.id}")
        if tool is None:  # no videos: no play_video tool at all
            for name in ours:
                await tools.uninstall(persona, name)
            return
        await tools.install(persona, tool)
        # The other delivery's version of it goes, so the persona has exactly one play_video.
        for name in ours - {tool.name}:
            await tools.uninstall(persona, name)
