"""The fake's ASGI app and how to run it: `create_fake_tavus(...)` for tests (run it with any ASGI server,
e.g. uvicorn inside the test's event loop: tests/support/tavus.py), `serve(host, port, ...)` for a blocking
local server (the `fake-tavus` command)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

import uvicorn
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.types import Receive, Scope, Send

from fake_tavus.control import make_control_handlers
from fake_tavus.conversations import make_conversation_handlers
from fake_tavus.fake import DEFAULT_API_KEY, DEFAULT_MAX_CONCURRENT, FakeTavus, PersonaEnvelope, PersonaSeed
from fake_tavus.middleware import intercept
from fake_tavus.personas import make_persona_handlers
from fake_tavus.tools import make_tool_handlers


class FakeTavusApp(Litestar):
    """The Litestar app, with fault injection and the API key check in front of Litestar's own stack (so
    a dropped connection really drops, and a refused key never reaches a handler)."""

    fake: FakeTavus

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == ScopeType.HTTP and await intercept(self.fake, scope, send):
            return
        await super().__call__(scope, receive, send)


def create_fake_tavus(
    *,
    api_key: str = DEFAULT_API_KEY,
    max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    personas: Iterable[PersonaSeed | str] = (),
    persona_envelope: PersonaEnvelope = "bare",
) -> tuple[Litestar, FakeTavus]:
    """The app and its state. `personas` exist from the start (and after every reset): `PersonaSeed`s or
    `"ID[:REPLICA]"` strings."""
    fake = FakeTavus(
        api_key=api_key,
        max_concurrent=max_concurrent,
        personas=personas,
        persona_envelope=persona_envelope,
    )
    app = FakeTavusApp(
        route_handlers=[
            *make_conversation_handlers(fake),
            *make_persona_handlers(fake),
            *make_tool_handlers(fake),
            *make_control_handlers(fake),
        ],
        # Browser tests poll the room and post app-messages from a page of another origin.
        cors_config=CORSConfig(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]),
        on_shutdown=[fake.aclose],
        openapi_config=None,
        logging_config=None,
    )
    app.fake = fake
    return app, fake


def banner(url: str, fake: FakeTavus) -> str:
    personas = ", ".join(
        p.persona_id + (f" (replica {p.default_replica_id})" if p.default_replica_id else "")
        for p in fake.personas.values()
    )
    return "\n".join(
        [
            f"Fake Tavus API at {url}/v2",
            f"  TAVUS_API_URL={url}/v2   (demo-relay; the official SDK: TAVUS_PUBLIC_API_BASE_URL)",
            f"  x-api-key:        {fake.api_key}",
            f"  max concurrent:   {fake.max_concurrent}",
            f"  persona envelope: {fake.persona_envelope}",
            f"  personas:         {personas or '-'}",
            f"  control:          {url}/__fake/state, /__fake/conversations/<id>/tool-call,",
            f"                    {url}/__fake/rooms/<id>/messages, /__fake/faults, /__fake/reset",
        ]
    )


def serve(
    host: str,
    port: int,
    *,
    api_key: str = DEFAULT_API_KEY,
    max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    personas: Iterable[PersonaSeed | str] = (),
    persona_envelope: PersonaEnvelope = "bare",
    out: TextIO | None = None,
) -> None:
    """Run the fake until interrupted, after printing its base URL, key and personas (blocking)."""
    app, fake = create_fake_tavus(
        api_key=api_key, max_concurrent=max_concurrent, personas=personas, persona_envelope=persona_envelope
    )
    print(banner(f"http://{host}:{port}", fake), file=out or sys.stdout, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
