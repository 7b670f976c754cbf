"""The Tavus routes: "Sync now" for a demo's persona, conversations started and ended by the service.

Who may call them:
- `POST /api/demos/{demo_id}/tavus/sync`: owners.
- `POST /api/demos/{demo_id}/conversations`: owners; anyone when the demo's `public_start` is true.
- `POST /api/demos/{demo_id}/conversations/{conversation_id}/end`: owners, or the session token of that
  conversation (the page that started it).
tests/integration/test_tavus_integration.py calls each without, and with a wrong, credential."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from demo_relay.config import Settings
from demo_relay.domain.errors import InvalidToken
from demo_relay.domain.models import channel_for
from demo_relay.domain.ports import ChannelTokens
from demo_relay.domain.use_cases.agent_conversations import EndConversation, StartConversation
from demo_relay.domain.use_cases.persona_sync import SyncPersonas
from demo_relay.entrypoints.http.auth import bearer_token, identify_owner, owner_guard
from demo_relay.entrypoints.http.bodies import strict
from demo_relay.entrypoints.http.demos import demo_out, session_out
from demo_relay.entrypoints.http.limits import per_minute
from demo_relay.entrypoints.http.openapi import OWNER, OWNER_OR_PUBLIC, OWNER_OR_SESSION, errors
from demo_relay.entrypoints.http.schemas import DemoOut, SessionOut

Text = Annotated[str, msgspec.Meta(max_length=2000, pattern="^[^\\x00]*$")]


class ConversationIn(msgspec.Struct, forbid_unknown_fields=False):
    """What the agent is told for this conversation (all optional)."""

    conversation_name: Annotated[str, msgspec.Meta(max_length=200, pattern="^[^\\x00]*$")] | None = None
    custom_greeting: Text | None = None
    conversational_context: Annotated[str, msgspec.Meta(max_length=20000, pattern="^[^\\x00]*$")] | None = (
        None
    )


class StartedOut(msgspec.Struct):
    conversation_id: str
    conversation_url: str
    status: str
    session: SessionOut


class EndedOut(msgspec.Struct):
    conversation_id: str
    status: str


@post(
    "/api/demos/{demo_id:str}/tavus/sync",
    status_code=HTTP_200_OK,
    summary="Bring the demo's Tavus persona in step with its titles now (owner token)",
    responses=errors(401, 403, 404, 409, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def sync_now(
    demo_id: FromPath[str],
    sync_personas: NamedDependency[SyncPersonas],
    settings: NamedDependency[Settings],
) -> DemoOut:
    return demo_out(await sync_personas.sync_now(demo_id), settings.tavus_enabled)


async def start_conversation(
    demo_id: FromPath[str],
    data: JSONBody[ConversationIn],
    request: Request[Any, Any, Any],
    start_conversation: NamedDependency[StartConversation],
) -> StartedOut:
    # A bearer must prove an owner (a wrong one is 401, never a silent public start).
    owner = bearer_token(request) is not None
    if owner:
        await identify_owner(request)
    data = await strict(request, ConversationIn)
    started = await start_conversation.execute(
        demo_id,
        owner=owner,
        name=data.conversation_name,
        greeting=data.custom_greeting,
        context=data.conversational_context,
    )
    conversation = started.conversation
    return StartedOut(
        conversation.conversation_id,
        conversation.conversation_url,
        conversation.status,
        session_out(started.session),
    )


def start_conversation_route(per_client_per_min: int) -> HTTPRouteHandler:
    """The start route, limited per client address: where a demo allows public starts anyone may start
    one, and each costs Tavus minutes (the concurrency cap bounds the total, this one client's share). A
    handler of its own per app, so the limit is the app's setting and the path's OPTIONS stays one."""
    return post(
        "/api/demos/{demo_id:str}/conversations",
        status_code=HTTP_201_CREATED,
        summary="Start a conversation with the demo's agent (owner token; anyone where public_start is on)",
        responses=errors(400, 401, 403, 404, 409, 422, 429, 502, 503),
        security=OWNER_OR_PUBLIC,
        middleware=[per_minute("conversations", per_client_per_min).middleware],
    )(start_conversation)


@post(
    "/api/demos/{demo_id:str}/conversations/{conversation_id:str}/end",
    status_code=HTTP_200_OK,
    summary="End a conversation (owner token, or that conversation's session token)",
    responses=errors(401, 403, 404, 502, 503),
    security=OWNER_OR_SESSION,
)
async def end_conversation(
    demo_id: FromPath[str],
    conversation_id: FromPath[str],
    request: Request[Any, Any, Any],
    end_conversation: NamedDependency[EndConversation],
    tokens: NamedDependency[SkipValidation[ChannelTokens]],
) -> EndedOut:
    token_conversation = _session_conversation(tokens, bearer_token(request), demo_id)
    if token_conversation is None:
        await identify_owner(request)  # no token: 401; not an owner's: 401 / 403
    await end_conversation.execute(demo_id, conversation_id, token_conversation=token_conversation)
    return EndedOut(conversation_id, "ended")


def _session_conversation(tokens: ChannelTokens, bearer: str | None, demo_id: str) -> str | None:
    """The conversation a bearer session token is bound to; None when the bearer is not a session token
    (it may be an owner's). A demo-wide (owner's watch) session token, or another demo's, ends nothing."""
    if bearer is None:
        return None
    try:
        channel = tokens.channel_of(bearer)
        conversation = tokens.conversation_of(bearer)
    except InvalidToken:
        return None
    if conversation is None or channel != channel_for(demo_id):
        raise InvalidToken("this session token ends no conversation of this demo")
    return conversation
