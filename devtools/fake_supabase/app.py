"""The fake's ASGI app and how to run it: `create_fake_supabase(...)` for tests (run it with any ASGI
server, e.g. uvicorn inside the test's event loop), `serve(host, port, ...)` for a blocking local server."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

import uvicorn
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.types import Receive, Scope, Send

from fake_supabase.auth import make_auth_handlers
from fake_supabase.control import make_control_handlers
from fake_supabase.fake import Authorize, BucketSpec, FakeSupabase, PrivatePolicy
from fake_supabase.middleware import intercept
from fake_supabase.realtime_rest import make_realtime_rest_handlers
from fake_supabase.realtime_ws import make_realtime_ws_handler
from fake_supabase.storage import make_storage_handlers

_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024


class FakeSupabaseApp(Litestar):
    """The Litestar app, with fault injection in front of Litestar's own middleware stack."""

    fake: FakeSupabase

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == ScopeType.HTTP and await intercept(self.fake, scope, send):
            return
        await super().__call__(scope, receive, send)


def create_fake_supabase(
    *,
    service_key: str | None = None,
    anon_key: str | None = None,
    jwt_secret: str | None = None,
    buckets: Iterable[BucketSpec | str] = (),
    authorize: Authorize | None = None,
    idle_timeout_s: float = 60.0,
    asymmetric_keys: bool = False,
) -> tuple[Litestar, FakeSupabase]:
    """The app and its state. Keys default to JWTs minted from `jwt_secret` (default: the Supabase CLI's)."""
    fake = FakeSupabase(
        service_key=service_key,
        anon_key=anon_key,
        jwt_secret=jwt_secret,
        buckets=buckets,
        authorize=authorize,
        idle_timeout_s=idle_timeout_s,
        asymmetric_keys=asymmetric_keys,
    )
    app = FakeSupabaseApp(
        route_handlers=[
            *make_auth_handlers(fake),
            *make_storage_handlers(fake),
            *make_realtime_rest_handlers(fake),
            make_realtime_ws_handler(fake),
            *make_control_handlers(fake),
        ],
        request_max_body_size=_MAX_UPLOAD_BYTES,
        # Supabase's API gateway answers browsers from any origin (supabase-js and signed uploads in a page).
        cors_config=CORSConfig(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]),
        openapi_config=None,
        logging_config=None,
    )
    app.fake = fake
    return app, fake


def banner(url: str, fake: FakeSupabase) -> str:
    buckets = ", ".join(b.id + (" (public)" if b.public else "") for b in fake.buckets.values()) or "-"
    policy = str(fake.authorize) if isinstance(fake.authorize, PrivatePolicy) else "custom authorize hook"
    return "\n".join(
        [
            f"Fake Supabase (Storage + Realtime) at {url}",
            f"  SUPABASE_URL={url}",
            f"  anon key:         {fake.anon_key}",
            f"  service_role key: {fake.service_key}",
            f"  JWT secret:       {fake.jwt_secret}",
            f"  buckets:          {buckets}",
            f"  private channels: {policy}",
            f"  control:          {url}/__fake/stats, /__fake/faults, /__fake/reset",
        ]
    )


def serve(
    host: str,
    port: int,
    *,
    service_key: str | None = None,
    anon_key: str | None = None,
    jwt_secret: str | None = None,
    buckets: Iterable[BucketSpec | str] = (),
    authorize: Authorize | None = None,
    idle_timeout_s: float = 60.0,
    out: TextIO | None = None,
    users: Iterable[tuple[str, ...]] = (),
    asymmetric_keys: bool = False,
) -> None:
    """Run the fake until interrupted, after printing its URL and keys (blocking). `authorize` decides private
    channels (default: role `authenticated`; `PrivatePolicy.parse("claim:NAME")` for the CLI's policies)."""
    app, fake = create_fake_supabase(
        service_key=service_key,
        anon_key=anon_key,
        jwt_secret=jwt_secret,
        buckets=buckets,
        authorize=authorize,
        idle_timeout_s=idle_timeout_s,
        asymmetric_keys=asymmetric_keys,
    )
    for email, password in users:
        fake.add_user(email, password)
    stream = out or sys.stdout
    print(banner(f"http://{host}:{port}", fake), file=stream, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", ws_max_size=5_000_000)


run = serve
