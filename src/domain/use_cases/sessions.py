"""Starting a viewing session: register conversation → demo, and decide everything the page gets: the
transport it subscribes with and the credentials for it (a hub token; for Supabase Realtime the project's
public access and, on private channels, a Realtime token)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from demo_relay.domain.errors import (
    ConfigurationError,
    InvalidRequest,
    InvalidToken,
    Unauthorized,
    UnknownDemo,
)
from demo_relay.domain.models import (
    ChannelAccess,
    Demo,
    RealtimeAccess,
    RealtimeProject,
    Session,
    Transport,
    WebSocketAccess,
    channel_for,
    demo_id_of,
    private_topic_for,
)
from demo_relay.domain.ports import (
    ChannelTokens,
    ConversationDirectory,
    ConversationSlots,
    DemoCatalog,
    RealtimeTokens,
    TransportPolicy,
    ViewerGrants,
)

# Tavus conversation ids are short hex strings; allow any URL-safe id so other callers can register too.
# The patterns are regular expressions as JSON Schema reads them (anchored, no flags), so the OpenAPI
# document states exactly the rule enforced here.
CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
_CONVERSATION_ID = re.compile(CONVERSATION_ID_PATTERN)
MAX_URL_CHARS = 2048
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"


@dataclass
class StartSession:
    catalog: DemoCatalog
    conversations: ConversationDirectory
    tokens: ChannelTokens
    transports: TransportPolicy
    websocket_base_url: str  # ws(s)://host[:port]; the channel's path is added here
    realtime: RealtimeProject | None = None  # None: Supabase Realtime is not configured
    realtime_tokens: RealtimeTokens | None = None  # private channels only
    # The page frames the conversation_url with camera and microphone allowed: only these hosts.
    conversation_url_hosts: Sequence[str] = ("*.daily.co",)
    grants: ViewerGrants | None = None
    # Conversations this deployment started: their own session token renews their session.
    slots: ConversationSlots | None = None

    async def execute(
        self,
        demo_id: str,
        conversation_id: str,
        conversation_url: str | None,
        grant: str | None = None,
        *,
        owner: bool = False,
        session_token: str | None = None,
    ) -> Session:
        """Only the demo's owners decide which conversation belongs to which demo: the caller proves to be
        one (`owner`, an owner token) or holds a viewer link's `grant` for exactly this demo and
        conversation; anything else is Unauthorized and registers nothing."""
        if session_token is not None:
            await self._check_renewal(session_token, demo_id, conversation_id)
        elif not owner:
            self._check_grant(grant, demo_id, conversation_id)
        conversation_id = checked_conversation(conversation_id, conversation_url, self.conversation_url_hosts)
        demo = await self._demo(demo_id)
        await self.conversations.register(conversation_id, demo.id, conversation_url)
        return self._session(demo.id, conversation_id)

    async def watch(self, demo_id: str) -> Session:
        """An owner's session of the whole demo (the caller has proved to be one): it follows every
        conversation of the demo, registers none, and forwards no tool calls."""
        demo = await self._demo(demo_id)
        return self._session(demo.id, None)

    async def _demo(self, demo_id: str) -> Demo:
        demo = await self.catalog.get_demo(demo_id)
        if demo is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        return demo

    def _session(self, demo_id: str, conversation_id: str | None) -> Session:
        channel = channel_for(demo_id)
        token, expires_at = self.tokens.issue(channel, conversation_id)
        transport = self.transports.transport_for(channel)
        return Session(
            demo_id=demo_id,
            channel=channel,
            conversation_id=conversation_id,
            # `both` publishes on both; the page needs one, and the hub needs no extra credentials.
            transport=Transport.WEBSOCKET if transport is Transport.BOTH else transport,
            websocket=WebSocketAccess(f"{self.websocket_base_url}/ws/{channel}", token, expires_at),
            supabase=self._realtime_access(channel, conversation_id)
            if transport is Transport.SUPABASE
            else None,
        )

    async def _check_renewal(self, token: str, demo_id: str, conversation_id: str) -> None:
        """A page of a conversation this service started holds no grant: its session token renews its own
        session (same demo, same conversation), nothing else."""
        try:
            channel = self.tokens.channel_of(token)
            bound = self.tokens.conversation_of(token)
        except InvalidToken:
            raise Unauthorized("the session token is invalid or has expired") from None
        if (channel, bound) != (channel_for(demo_id), conversation_id):
            raise Unauthorized("the session token is for another demo or conversation")
        if self.slots is None or not await self.slots.started_here(conversation_id):
            raise Unauthorized("only conversations this service started renew with their session token")

    def _check_grant(self, grant: str | None, demo_id: str, conversation_id: str) -> None:
        if grant is None:
            raise Unauthorized("a viewer link (its grant) or an owner token is required")
        if self.grants is None:
            raise Unauthorized("viewer links are not enabled here")
        try:
            granted = self.grants.verify(grant)
        except InvalidToken:
            raise Unauthorized("the viewer link is invalid or has expired") from None
        if (granted.demo_id, granted.conversation_id) != (demo_id, conversation_id):
            raise Unauthorized("the viewer link is for another demo or conversation")

    def _realtime_access(self, channel: str, conversation_id: str | None) -> RealtimeAccess:
        if self.realtime is None:
            raise ConfigurationError(f"{channel} is set to use Supabase Realtime, which is not configured")
        if not self.realtime.private:
            # Public channels admit anyone with the anon key: one topic per demo, as the contract has it.
            return RealtimeAccess(self.realtime, channel)
        if self.realtime_tokens is None:
            raise ConfigurationError("private Realtime channels need SUPABASE_JWT_SECRET")
        topic = private_topic_for(channel, conversation_id)
        token, expires_at = self.realtime_tokens.issue(topic, conversation_id or f"owners-of-{channel}")
        return RealtimeAccess(self.realtime, topic, token, expires_at)


def checked_conversation(conversation_id: str, conversation_url: str | None, hosts: Sequence[str]) -> str:
    """The conversation id, when it and the URL are acceptable; InvalidRequest names the field otherwise."""
    if not matches(_CONVERSATION_ID, conversation_id):
        raise InvalidRequest(
            "conversation_id must be 1-128 characters: letters, digits, '_', '.', ':' or '-'",
            field="conversation_id",
        )
    if conversation_url is not None and not frameable(conversation_url, hosts):
        raise InvalidRequest(
            f"conversation_url must be an https URL on {', '.join(hosts)}", field="conversation_url"
        )
    return conversation_id


def conversation_url_pattern(hosts: Sequence[str]) -> str:
    """The URLs the page may frame, as one anchored regular expression: https, a host of `hosts` in lower
    case (`*.example.com`: any subdomain of example.com, not example.com itself, not evil-example.com),
    an optional port, then a path, query or fragment of printable ASCII. No user info: the host is the
    whole authority."""
    alternatives = []
    for host in hosts:
        if not _HOST.match(host):
            raise ConfigurationError(f"CONVERSATION_URL_HOSTS: {host!r} is neither a host nor *.host")
        literal = host.removeprefix("*.").replace(".", "\\.")  # a host is [a-z0-9.-]: only dots are special
        alternatives.append(f"({_LABEL}\\.)+{literal}" if host.startswith("*.") else literal)
    return f"^https://({'|'.join(alternatives)})(:[0-9]{{1,5}})?([/?#][!-~]*)?$"


@cache
def _frameable(hosts: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(conversation_url_pattern(hosts))


def frameable(url: str, hosts: Sequence[str]) -> bool:
    """`url` (at most MAX_URL_CHARS) matches conversation_url_pattern(hosts)."""
    return len(url) <= MAX_URL_CHARS and matches(_frameable(tuple(hosts)), url)


def matches(pattern: re.Pattern[str], value: str) -> bool:
    """An anchored `pattern` matches `value` as JSON Schema reads it: `$` is the end of the value
    (`fullmatch`; Python's `match` would also admit one trailing newline)."""
    return pattern.fullmatch(value) is not None


def authorize_channel(tokens: ChannelTokens, token: str, channel: str) -> ChannelAccess:
    """What a session token grants on `channel`; InvalidToken unless the token is valid and bound to
    exactly that channel."""
    if tokens.channel_of(token) != channel:
        raise InvalidToken("the token is not valid for this channel")
    demo_id = demo_id_of(channel)
    if demo_id is None:
        raise InvalidToken("not a demo channel")
    return ChannelAccess(demo_id, channel, tokens.conversation_of(token))
