"""Conversations this service starts with a demo's agent (its Tavus persona), ends, and never leaks.

Starting takes one of the deployment's concurrency slots before Tavus is asked (so concurrent starts, on
any instance, never overshoot TAVUS_MAX_CONCURRENT), creates the conversation with bounded durations and
a per-demo callback URL, registers it to the demo and answers the page's session. Ending tells Tavus, the
page (`session_ended` at once) and frees the slot; Tavus's own `system.shutdown` that follows is then a
duplicate. Conversations that never report an end are closed by the reaper after their longest possible
call plus a margin."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from demo_relay.domain.errors import (
    AgentCapacity,
    AgentNotConfigured,
    AgentRejected,
    AgentUnauthorized,
    DomainError,
    InvalidToken,
    Unauthorized,
    UnknownConversation,
    UnknownDemo,
)
from demo_relay.domain.models import (
    ConversationRequest,
    ConversationStart,
    Demo,
)
from demo_relay.domain.ports import (
    AgentConversations,
    CallbackTokens,
    Clock,
    ConversationDirectory,
    ConversationSlots,
    DemoCatalog,
    Notifier,
)
from demo_relay.domain.use_cases.lifecycle import ConversationEnds, ended_event
from demo_relay.domain.use_cases.sessions import StartSession

log = logging.getLogger(__name__)

# Tavus's timeouts are ours to bound: a prospect who leaves frees the slot within a minute; a room nobody
# joins closes within five.
PARTICIPANT_LEFT_TIMEOUT_S = 60
PARTICIPANT_ABSENT_TIMEOUT_S = 300
# After max_call_duration Tavus ends the call itself; past this margin we end it ourselves.
REAP_MARGIN_S = 120.0
# A reservation still 'starting' this long after it was taken belongs to a process that died mid-start.
STALE_START_S = 120.0
RETRY_AFTER_FULL_S = 30
ENDED_BY_OWNER = "ended_by_request"
ENDED_BY_REAPER = "max_call_duration_exceeded"


def callback_url(webhook_url: str, demo_id: str, token: str) -> str:
    """Tavus posts this conversation's lifecycle events (unsigned) here: the token authenticates them for
    this demo only."""
    return f"{webhook_url}?{urlencode({'demo_id': demo_id, 'callback_token': token})}"


@dataclass
class StartConversation:
    catalog: DemoCatalog
    agent: AgentConversations | None  # None: TAVUS_API_KEY is not set
    slots: ConversationSlots
    conversations: ConversationDirectory
    callback_tokens: CallbackTokens
    sessions: StartSession
    clock: Clock
    webhook_url: str
    max_concurrent: int
    max_call_s: int
    default_replica_id: str | None = None

    async def execute(
        self,
        demo_id: str,
        *,
        owner: bool,
        name: str | None = None,
        greeting: str | None = None,
        context: str | None = None,
    ) -> ConversationStart:
        """`owner`: the caller proved to be one; anyone else only where the demo allows public starts."""
        demo = await self._startable(demo_id, owner)
        assert self.agent is not None and demo.tavus_persona_id is not None  # checked by _startable
        ends_by = self.clock.now() + timedelta(seconds=self.max_call_s + REAP_MARGIN_S)
        reservation = await self.slots.reserve(demo.id, self.max_concurrent, ends_by)
        if reservation is None:
            raise AgentCapacity(
                f"all {self.max_concurrent} conversation slots are in use; try again shortly",
                RETRY_AFTER_FULL_S,
                in_use=self.max_concurrent,
                max_concurrent=self.max_concurrent,
            )
        try:
            started = await self.agent.start(
                ConversationRequest(
                    persona_id=demo.tavus_persona_id,
                    replica_id=demo.tavus_replica_id or self.default_replica_id,
                    callback_url=callback_url(self.webhook_url, demo.id, self.callback_tokens.issue(demo.id)),
                    max_call_s=self.max_call_s,
                    participant_left_timeout_s=PARTICIPANT_LEFT_TIMEOUT_S,
                    participant_absent_timeout_s=PARTICIPANT_ABSENT_TIMEOUT_S,
                    name=name or f"{demo.name} demo",
                    custom_greeting=greeting,
                    conversational_context=context,
                )
            )
        except BaseException:
            await asyncio.shield(self.slots.release(reservation))
            raise
        try:
            await self.slots.activate(reservation, started.conversation_id)
            # Registered by the server itself: the conversation is the demo's, and the page needs no proof.
            session = await self.sessions.execute(
                demo.id, started.conversation_id, started.conversation_url, owner=True
            )
        except BaseException:
            # Nobody will join a conversation whose page never got it: end it now rather than bill it.
            await asyncio.shield(self._abandon(started.conversation_id))
            raise
        return ConversationStart(started, session)

    async def _abandon(self, conversation_id: str) -> None:
        assert self.agent is not None
        try:
            await self.agent.end(conversation_id)
            await self.slots.finish(conversation_id)
        except DomainError as exc:  # Tavus's own timeouts end it (participant_absent_timeout), the reaper
            log.warning("could not end abandoned conversation %s: %s", conversation_id, exc.message)

    async def _startable(self, demo_id: str, owner: bool) -> Demo:
        demo = await self.catalog.get_demo(demo_id)
        if demo is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        if not owner and not demo.public_start:
            # The same answer as a missing token on any owner route: no hint of what the demo allows.
            raise Unauthorized("an owner token is required to start a conversation for this demo")
        if self.agent is None:
            raise AgentNotConfigured("the Tavus integration is off (TAVUS_API_KEY is not set)")
        if demo.tavus_persona_id is None:
            raise AgentNotConfigured("the demo has no Tavus persona (set tavus.persona_id)", field="tavus")
        return demo


@dataclass
class EndConversation:
    agent: AgentConversations | None
    slots: ConversationSlots
    conversations: ConversationDirectory
    notifier: Notifier
    clock: Clock
    ends: ConversationEnds = field(default_factory=ConversationEnds)  # shared with RecordLifecycle

    async def execute(self, demo_id: str, conversation_id: str, *, token_conversation: str | None) -> None:
        """Ends a conversation of the demo. `token_conversation`: the conversation a session token was
        issued for, when the caller is a page rather than an owner (it may end only that one)."""
        if token_conversation is not None and token_conversation != conversation_id:
            raise InvalidToken("the session token is for another conversation")
        if await self.conversations.demo_for(conversation_id) != demo_id:
            raise UnknownConversation(
                "the demo has no conversation with that id", conversation_id=conversation_id
            )
        await end_everywhere(
            self.agent, self.slots, self.conversations, self.notifier, self.clock, conversation_id,
            ENDED_BY_OWNER, ends=self.ends,
        )  # fmt: skip


@dataclass
class ReapConversations:
    """Closes conversations we started that outlived their longest possible call, so no slot leaks even
    when Tavus's shutdown callback never arrives (a callback URL it cannot reach, a lost request)."""

    agent: AgentConversations | None
    slots: ConversationSlots
    conversations: ConversationDirectory
    notifier: Notifier
    clock: Clock
    ends: ConversationEnds = field(default_factory=ConversationEnds)  # shared with RecordLifecycle

    async def run_once(self) -> int:
        overdue = await self.slots.overdue(self.clock.now(), STALE_START_S)
        for conversation_id, _demo_id in overdue:
            try:
                await end_everywhere(
                    self.agent, self.slots, self.conversations, self.notifier, self.clock, conversation_id,
                    ENDED_BY_REAPER, local_end_despite_refusal=True, ends=self.ends,
                )  # fmt: skip
            except DomainError as exc:  # Tavus or the database is down: the next pass tries again
                log.warning("could not close overdue conversation %s: %s", conversation_id, exc.message)
        return len(overdue)

    async def run_every(self, interval_s: float) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("conversation reaper pass failed", exc_info=True)
            await asyncio.sleep(interval_s)


async def end_everywhere(
    agent: AgentConversations | None,
    slots: ConversationSlots,
    conversations: ConversationDirectory,
    notifier: Notifier,
    clock: Clock,
    conversation_id: str,
    reason: str,
    *,
    local_end_despite_refusal: bool = False,
    ends: ConversationEnds | None = None,
) -> None:
    """At Tavus first (if Tavus is unreachable nothing is marked: the caller or the next reaper pass
    retries), then the page (`session_ended`), then our records: told before recorded, so a failed
    publish is sent again by the retry instead of being lost behind an end already recorded.
    `local_end_despite_refusal` (the reaper, past the longest call): Tavus refusing the end (our key, the
    request) still frees the slot here, since the call cannot still be running."""
    if agent is not None:
        try:
            await agent.end(conversation_id)
        except (AgentUnauthorized, AgentRejected):
            if not local_end_despite_refusal:
                raise
            log.warning("Tavus refused to end %s; ending it here (past its longest call)", conversation_id)
    # Tavus's shutdown callback for this end may be in flight: one of us tells the page (lifecycle.py).
    async with (ends or ConversationEnds()).one_at_a_time(conversation_id):
        await _end_here(slots, conversations, notifier, clock, conversation_id, reason)


async def _end_here(
    slots: ConversationSlots,
    conversations: ConversationDirectory,
    notifier: Notifier,
    clock: Clock,
    conversation_id: str,
    reason: str,
) -> None:
    if await conversations.is_ended(conversation_id):
        await slots.finish(conversation_id)
        return
    demo_id = await conversations.demo_for(conversation_id)
    if demo_id is not None:
        await notifier.publish(ended_event(demo_id, conversation_id, reason, clock))
    await conversations.end_once(conversation_id)
    await slots.finish(conversation_id)
