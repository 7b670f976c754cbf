"""Demos, sessions and the tool definition."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, SkipValidation
from litestar.status_codes import HTTP_201_CREATED

from demo_relay.config import Settings
from demo_relay.domain.errors import InvalidToken, UnknownDemo
from demo_relay.domain.models import Demo, DemoVideo, Session, SyncState
from demo_relay.domain.ports import ChannelTokens, DemoCatalog
from demo_relay.domain.use_cases.sessions import StartSession
from demo_relay.domain.use_cases.tool_definition import tool_definition
from demo_relay.domain.use_cases.viewer_links import MintViewerLink
from demo_relay.entrypoints.http.auth import bearer_token, identify_owner, owner_guard
from demo_relay.entrypoints.http.bodies import strict
from demo_relay.entrypoints.http.openapi import OWNER, OWNER_OR_GRANT, errors
from demo_relay.entrypoints.http.schemas import (
    DemoOut,
    SessionIn,
    SessionOut,
    SupabaseAccess,
    TavusOut,
    TavusSyncOut,
    VideoOut,
    ViewerLinkIn,
    ViewerLinkOut,
    WebSocketAccess,
)


def video_out(video: DemoVideo) -> VideoOut:
    return VideoOut(
        id=video.id,
        title=video.title,
        duration_s=video.duration_s,
        size_bytes=video.size_bytes,
        content_type=video.content_type,
    )


def demo_out(demo: Demo, tavus_enabled: bool) -> DemoOut:
    sync = demo.tavus_sync
    # Nothing to keep in step without Tavus or without a persona: the sync is off, whatever is stored.
    off = not tavus_enabled or demo.tavus_persona_id is None
    return DemoOut(
        id=demo.id,
        name=demo.name,
        videos=[video_out(v) for v in demo.videos],
        public_start=demo.public_start,
        tavus=TavusOut(
            demo.tavus_persona_id,
            demo.tavus_replica_id,
            TavusSyncOut(SyncState.OFF.value)
            if off
            else TavusSyncOut(
                sync.state.value,
                sync.synced_at.isoformat() if sync.synced_at else None,
                sync.error,
            ),
        ),
    )


async def _demo(catalog: DemoCatalog, demo_id: str) -> Demo:
    demo = await catalog.get_demo(demo_id)
    if demo is None:
        raise UnknownDemo("no demo with that id", demo_id=demo_id)
    return demo


@get("/api/demos", summary="Demos and their videos", responses=errors(503))
async def list_demos(
    catalog: NamedDependency[SkipValidation[DemoCatalog]], settings: NamedDependency[Settings]
) -> list[DemoOut]:
    return [demo_out(d, settings.tavus_enabled) for d in await catalog.list_demos()]


@get("/api/demos/{demo_id:str}", summary="One demo and its videos", responses=errors(404, 503))
async def get_demo(
    demo_id: FromPath[str],
    catalog: NamedDependency[SkipValidation[DemoCatalog]],
    settings: NamedDependency[Settings],
) -> DemoOut:
    return demo_out(await _demo(catalog, demo_id), settings.tavus_enabled)


@get(
    "/api/demos/{demo_id:str}/tool",
    summary="The play_video tool definition for a Tavus persona",
    responses=errors(404, 503),
)
async def get_tool(
    demo_id: FromPath[str],
    catalog: NamedDependency[SkipValidation[DemoCatalog]],
    settings: NamedDependency[Settings],
) -> dict[str, object]:
    demo = await _demo(catalog, demo_id)
    return tool_definition(demo, f"{settings.webhook_url}?demo_id={demo.id}")


@post(
    "/api/demos/{demo_id:str}/viewer-links",
    status_code=HTTP_201_CREATED,
    summary="Mint a viewer link for one conversation (owner token)",
    responses=errors(400, 401, 404, 422, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def create_viewer_link(
    demo_id: FromPath[str],
    data: JSONBody[ViewerLinkIn],
    request: Request[Any, Any, Any],
    mint_viewer_link: NamedDependency[MintViewerLink],
) -> ViewerLinkOut:
    data = await strict(request, ViewerLinkIn)
    ttl_s = None if data.ttl_s is None else int(data.ttl_s)
    link = await mint_viewer_link.execute(demo_id, data.conversation_id, data.conversation_url, ttl_s)
    return ViewerLinkOut(url=link.url, grant=link.grant, expires_at=link.expires_at.isoformat())


@post(
    "/api/demos/{demo_id:str}/sessions",
    status_code=HTTP_201_CREATED,
    summary="Start a viewing session (owner token, a viewer link's grant, or to renew the session of a "
    "conversation the service started, its session token)",
    responses=errors(400, 401, 404, 409, 422, 429, 503),
    security=OWNER_OR_GRANT,
)
async def create_session(
    demo_id: FromPath[str],
    data: JSONBody[SessionIn],
    request: Request[Any, Any, Any],
    start_session: NamedDependency[StartSession],
    tokens: NamedDependency[SkipValidation[ChannelTokens]],
) -> SessionOut:
    # A viewer shows its grant in the body; a bearer is a session token renewing the session of a
    # conversation we started, or must prove an owner (else 401 / 403).
    bearer = bearer_token(request)
    session_token = bearer if bearer is not None and _is_session_token(tokens, bearer) else None
    owner = bearer is not None and session_token is None
    if owner:
        await identify_owner(request)
    session = await start_session.execute(
        demo_id,
        data.conversation_id,
        data.conversation_url,
        data.grant,
        owner=owner,
        session_token=session_token,
    )
    return session_out(session)


@post(
    "/api/demos/{demo_id:str}/watch",
    status_code=HTTP_201_CREATED,
    summary="An owner's session of the whole demo: every conversation's events, read-only (owner token)",
    responses=errors(401, 404, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def watch_demo(demo_id: FromPath[str], start_session: NamedDependency[StartSession]) -> SessionOut:
    return session_out(await start_session.watch(demo_id))


def _is_session_token(tokens: ChannelTokens, bearer: str) -> bool:
    try:
        tokens.channel_of(bearer)
    except InvalidToken:
        return False
    return True


def session_out(session: Session) -> SessionOut:
    realtime = session.supabase
    return SessionOut(
        channel=session.channel,
        transport=session.transport.value,
        demo_id=session.demo_id,
        conversation_id=session.conversation_id,
        websocket=WebSocketAccess(
            url=session.websocket.url,
            token=session.websocket.token,
            expires_at=session.websocket.expires_at.isoformat(),
        ),
        supabase=None
        if realtime is None
        else SupabaseAccess(
            url=realtime.project.url,
            anon_key=realtime.project.anon_key,
            private=realtime.project.private,
            topic=realtime.topic,
            access_token=realtime.access_token,
            access_token_expires_at=realtime.access_token_expires_at.isoformat()
            if realtime.access_token_expires_at
            else None,
        ),
    )
