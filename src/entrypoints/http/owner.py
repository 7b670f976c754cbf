"""The owner API (DESIGN §11): demos created, changed and deleted; videos uploaded (streamed), renamed and
deleted; a demo's conversations with what played. Every route carries the owner guard, which answers 401
(or 403 for a signed-in non-owner) before a byte of the body is read; tests/integration/test_owner_api.py
tries each without, and with a wrong, token."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, JSONBody, SkipValidation
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from demo_relay.config import Settings
from demo_relay.domain.errors import UnknownDemo
from demo_relay.domain.models import DemoChanges
from demo_relay.domain.ports import DemoCatalog
from demo_relay.domain.titles import MAX_TITLE_CHARS
from demo_relay.domain.use_cases.add_video import AddVideo
from demo_relay.domain.use_cases.manage_demos import ManageDemos
from demo_relay.entrypoints.http.auth import identify_owner, owner_guard
from demo_relay.entrypoints.http.bodies import strict
from demo_relay.entrypoints.http.demos import demo_out, video_out
from demo_relay.entrypoints.http.openapi import OWNER, errors
from demo_relay.entrypoints.http.schemas import (
    ConversationOut,
    DemoIn,
    DemoOut,
    DemoPatch,
    DirectUploadDone,
    DirectUploadIn,
    DirectUploadOut,
    PlayOut,
    TavusIn,
    VideoOut,
    VideoPatch,
)
from demo_relay.entrypoints.http.uploads import default_title, received

UPLOADS_DIR = "tmp/uploads"  # under DATA_DIR
UNTITLED = "Untitled video"


@dataclass
class UploadOperation(Operation):
    """The upload's body as the document states it: the route reads the stream itself (uploads.py), so
    Litestar cannot infer it from a parameter."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        required=["file"],
                        properties={
                            "title": Schema(
                                type=OpenAPIType.STRING,
                                max_length=MAX_TITLE_CHARS,
                                pattern="^[^\\x00]*$",
                                description="Defaults to the file name without its extension",
                            ),
                            "file": Schema(
                                type=OpenAPIType.STRING,
                                format=OpenAPIFormat.BINARY,
                                description="An MP4, QuickTime or WebM video (judged by its bytes), at most "
                                "MAX_VIDEO_BYTES",
                            ),
                        },
                    )
                )
            },
        )


def _tavus(changes: dict[str, Any], tavus: TavusIn | msgspec.UnsetType | None) -> None:
    if not isinstance(tavus, TavusIn):
        return
    for field, clear in (("persona_id", "clear_persona"), ("replica_id", "clear_replica")):
        value = getattr(tavus, field)
        if value is None:
            changes[clear] = True
        elif value is not msgspec.UNSET:
            changes[f"tavus_{field}"] = value


@post(
    "/api/demos",
    status_code=HTTP_201_CREATED,
    summary="Create a demo",
    responses=errors(400, 401, 403, 422, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def create_demo(
    data: JSONBody[DemoIn],
    request: Request[Any, Any, Any],
    manage_demos: NamedDependency[ManageDemos],
    settings: NamedDependency[Settings],
) -> DemoOut:
    data = await strict(request, DemoIn)
    changes: dict[str, Any] = {"public_start": data.public_start}
    _tavus(changes, data.tavus)
    demo = await manage_demos.create(data.name, DemoChanges(**changes))
    return demo_out(demo, settings.tavus_enabled)


@patch(
    "/api/demos/{demo_id:str}",
    summary="Change a demo",
    responses=errors(400, 401, 403, 404, 422, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def update_demo(
    demo_id: FromPath[str],
    data: JSONBody[DemoPatch],
    request: Request[Any, Any, Any],
    manage_demos: NamedDependency[ManageDemos],
    settings: NamedDependency[Settings],
) -> DemoOut:
    data = await strict(request, DemoPatch)
    changes: dict[str, Any] = {}
    if not isinstance(data.name, msgspec.UnsetType):
        changes["name"] = data.name
    if not isinstance(data.public_start, msgspec.UnsetType):
        changes["public_start"] = data.public_start
    _tavus(changes, data.tavus)
    return demo_out(await manage_demos.update(demo_id, DemoChanges(**changes)), settings.tavus_enabled)


@delete(
    "/api/demos/{demo_id:str}",
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete a demo with its videos (their objects too), conversations and plays",
    responses=errors(401, 403, 404, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def delete_demo(demo_id: FromPath[str], manage_demos: NamedDependency[ManageDemos]) -> None:
    await manage_demos.delete(demo_id)


@post(
    "/api/demos/{demo_id:str}/videos",
    status_code=HTTP_201_CREATED,
    summary="Upload a video (multipart/form-data: title, file), streamed to the video store",
    responses=errors(400, 401, 403, 404, 409, 413, 415, 422, 502, 503),
    security=OWNER,
    guards=[owner_guard],
    request_max_body_size=None,  # the upload enforces MAX_VIDEO_BYTES itself, while streaming
    operation_class=UploadOperation,
)
async def upload_video(
    demo_id: FromPath[str],
    request: Request[Any, Any, Any],
    add_video: NamedDependency[AddVideo],
    catalog: NamedDependency[SkipValidation[DemoCatalog]],
    settings: NamedDependency[Settings],
) -> VideoOut:
    if await catalog.get_demo(demo_id) is None:  # before reading what may be gigabytes
        raise UnknownDemo("no demo with that id", demo_id=demo_id)
    async with received(request, Path(settings.data_dir) / UPLOADS_DIR, settings.max_video_bytes) as upload:
        # A blank title is no title: the file name's, else a placeholder the owner renames in the row.
        title = (upload.title or "").strip() or default_title(upload.filename) or UNTITLED
        return video_out(await add_video.execute(demo_id, title, upload.path, scratch=True))


@post(
    "/api/demos/{demo_id:str}/videos/direct",
    status_code=HTTP_201_CREATED,
    summary="A signed upload URL for one video, uploaded by the browser straight to the Supabase bucket",
    responses=errors(400, 401, 403, 404, 413, 422, 502, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def sign_direct_upload(
    demo_id: FromPath[str],
    data: JSONBody[DirectUploadIn],
    request: Request[Any, Any, Any],
    add_video: NamedDependency[AddVideo],
    settings: NamedDependency[Settings],
) -> DirectUploadOut:
    data = await strict(request, DirectUploadIn)
    signed = await add_video.sign_upload(demo_id, data.filename, data.size_bytes)
    return DirectUploadOut(settings.storage_bucket, signed.storage_path, signed.token, signed.url)


@post(
    "/api/demos/{demo_id:str}/videos/direct/done",
    status_code=HTTP_201_CREATED,
    summary="List a video the browser uploaded to the bucket, once its bytes pass the upload checks",
    responses=errors(400, 401, 403, 404, 409, 413, 415, 422, 502, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def finish_direct_upload(
    demo_id: FromPath[str],
    data: JSONBody[DirectUploadDone],
    request: Request[Any, Any, Any],
    add_video: NamedDependency[AddVideo],
) -> VideoOut:
    data = await strict(request, DirectUploadDone)
    return video_out(await add_video.adopt(demo_id, data.title, data.path))


@patch(
    "/api/demos/{demo_id:str}/videos/{video_id:str}",
    summary="Rename a video",
    responses=errors(400, 401, 403, 404, 409, 422, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def rename_video(
    demo_id: FromPath[str],
    video_id: FromPath[str],
    data: JSONBody[VideoPatch],
    request: Request[Any, Any, Any],
    manage_demos: NamedDependency[ManageDemos],
) -> VideoOut:
    data = await strict(request, VideoPatch)
    return video_out(await manage_demos.rename_video(demo_id, video_id, data.title))


@delete(
    "/api/demos/{demo_id:str}/videos/{video_id:str}",
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete a video and its object",
    responses=errors(401, 403, 404, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def delete_video(
    demo_id: FromPath[str], video_id: FromPath[str], manage_demos: NamedDependency[ManageDemos]
) -> None:
    await manage_demos.delete_video(demo_id, video_id)


@get(
    "/api/demos/{demo_id:str}/conversations",
    summary="The demo's conversations, newest first, with the videos each one played",
    responses=errors(401, 403, 404, 503),
    security=OWNER,
    guards=[owner_guard],
)
async def list_conversations(
    demo_id: FromPath[str], manage_demos: NamedDependency[ManageDemos]
) -> list[ConversationOut]:
    return [
        ConversationOut(
            conversation_id=c.conversation_id,
            status=c.status,
            created_at=c.created_at.isoformat(),
            ended_at=c.ended_at.isoformat() if c.ended_at else None,
            plays=[PlayOut(p.video_id, p.title, p.played_at.isoformat()) for p in c.plays],
        )
        for c in await manage_demos.conversations(demo_id)
    ]


class OwnerOut(msgspec.Struct):
    owner: str  # "admin token", or the signed-in user's email


@get(
    "/api/owner",
    summary="Who the bearer is, if an owner (the page checks a sign-in with it)",
    responses=errors(401, 403, 503),
    security=OWNER,
)
async def whoami(request: Request[Any, Any, Any]) -> OwnerOut:
    return OwnerOut(await identify_owner(request))


class SupabaseSignIn(msgspec.Struct):
    url: str
    anon_key: str


class TavusConfigOut(msgspec.Struct):
    enabled: bool  # TAVUS_API_KEY is set: conversations can be started, personas are synced
    delivery: str  # how the persona's play_video reaches us: app_message (the page's bridge) or api


class AuthConfigOut(msgspec.Struct):
    """How an owner signs in on the page: always with an owner token; with Supabase Auth (email and
    password, supabase-js) when OWNER_EMAILS is set. And what the page may offer (Tavus)."""

    supabase: SupabaseSignIn | None
    # Uploads go straight to the Supabase bucket (…/videos/direct), else through the service.
    direct_uploads: SupabaseSignIn | None = None
    tavus: TavusConfigOut | None = None


@get("/api/auth-config", summary="How owners sign in and upload (public)", responses=errors(503))
async def auth_config(settings: NamedDependency[Settings]) -> AuthConfigOut:
    project = (
        SupabaseSignIn(settings.supabase_url, settings.supabase_anon_key)
        if settings.supabase_url and settings.supabase_anon_key
        else None
    )
    return AuthConfigOut(
        project if settings.owner_emails else None,
        project if settings.storage == "supabase" else None,
        TavusConfigOut(settings.tavus_enabled, settings.tavus_tool_delivery.value),
    )


owner_handlers = [
    create_demo,
    update_demo,
    delete_demo,
    upload_video,
    rename_video,
    delete_video,
    list_conversations,
]
open_handlers = [auth_config, whoami]
# Only where the store signs upload URLs (STORAGE=supabase): elsewhere the document does not offer them.
direct_upload_handlers = [sign_direct_upload, finish_direct_upload]
