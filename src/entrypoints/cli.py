"""`demo-relay`: serve, migrate, seed, add-video, send-tool-call. Every command reads the same settings."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import click
import httpx
from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.adapters.postgres.database import Database
from demo_relay.adapters.postgres.embedded import EmbeddedPostgres
from demo_relay.adapters.signatures import tavus_hmac
from demo_relay.adapters.storage.mp4 import mp4_duration_s
from demo_relay.bootstrap import Container, build_container, close_resources
from demo_relay.config import Settings, load_settings
from demo_relay.domain.errors import DomainError
from demo_relay.domain.models import Demo

from .seed import seed_if_empty, seed_sample_demo

log = logging.getLogger("demo_relay")


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """demo-relay: plays product demo videos when a Tavus agent calls play_video."""
    if ctx.invoked_subcommand in _NO_SETTINGS:
        return  # stands in for another service; the relay's settings (SUPABASE_URL…) are not its own
    try:
        settings = load_settings()
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise in a CLI
    ctx.obj = settings


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """DATABASE_URL, or the embedded Postgres under DATA_DIR/pg (started here, reused if running)."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres()
    uri = embedded.start(settings.data_dir)
    try:
        yield uri
    finally:
        embedded.stop()


@asynccontextmanager
async def opened(settings: Settings, dsn: str) -> AsyncIterator[Container]:
    container = build_container(settings)
    database: Database = container.database()
    await database.open(dsn)
    try:
        await database.migrate()
        yield container
    finally:
        await close_resources(container)
        await database.close()


@main.command()
@click.option("--seed/--no-seed", default=True, show_default=True, help="Seed the sample demo when empty.")
@click.pass_obj
def serve(settings: Settings, seed: bool) -> None:
    """Migrate, seed the sample demo when the database is empty, and serve HTTP + WebSocket."""
    import uvicorn

    from .http.access_log import redact_server_logs
    from .http.app import create_app

    async def on_ready(container: Container) -> None:
        if seed:
            await seed_if_empty(container.catalog(), container.video_store())
        demos = await container.catalog().list_demos()
        _print_banner(settings, demos)

    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler that was there
    # before it started. With Python's default that kills the process before `database_url` can stop the
    # embedded Postgres; this handler turns it into SystemExit, so the cleanup runs.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with database_url(settings) as dsn:
        try:
            container = build_container(settings)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        app = create_app(container, dsn=dsn, on_ready=on_ready)
        redact_server_logs()
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            ws_max_size=settings.ws_max_message_bytes,
            ws_ping_interval=20,
            ws_ping_timeout=20,
            log_level=settings.log_level.lower(),
            proxy_headers=True,
            access_log=False,  # ours (access_log.py) leaves query strings, which carry secrets, out
        )


def _exit_on_sigterm(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


@main.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Apply pending SQL migrations (each once, in order, under an advisory lock)."""

    async def run(dsn: str) -> list[str]:
        database = Database()
        await database.open(dsn)
        try:
            return await database.migrate()
        finally:
            await database.close()

    with database_url(settings) as dsn:
        applied = asyncio.run(run(dsn))
    click.echo("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))


@main.command()
@click.option("--force", is_flag=True, help="Add the sample demo even if demos exist.")
@click.pass_obj
def seed(settings: Settings, force: bool) -> None:
    """Add the sample demo (3 short clips) when the database has no demo."""

    async def run(dsn: str) -> Demo | None:
        async with opened(settings, dsn) as container:
            catalog, storage = container.catalog(), container.video_store()
            return await (seed_sample_demo(catalog, storage) if force else seed_if_empty(catalog, storage))

    with database_url(settings) as dsn:
        demo = asyncio.run(run(dsn))
    click.echo(f"seeded demo {demo.id}" if demo else "demos exist already; nothing seeded (use --force)")


@main.command("add-video")
@click.option("--demo", "demo_id", required=True, help="Demo id.")
@click.option("--title", required=True, help="Title the agent will use.")
@click.option("--duration", type=float, default=None, help="Seconds; read from the MP4 when omitted.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def add_video(settings: Settings, demo_id: str, title: str, duration: float | None, file: Path) -> None:
    """Put FILE into the video store (local, or the Supabase bucket) as a video of a demo."""

    async def run(dsn: str) -> str:
        async with opened(settings, dsn) as container:
            catalog: AsyncpgDemoCatalog = container.catalog()
            if await catalog.get_demo(demo_id) is None:
                raise click.ClickException(f"no demo {demo_id}")
            storage_path = f"{demo_id}/{uuid.uuid4().hex[:8]}-{file.name}"
            await container.video_store().put(file, storage_path)
            video = await catalog.add_video(demo_id, title, storage_path, duration or mp4_duration_s(file))
            return video.id

    with database_url(settings) as dsn:
        try:
            video_id = asyncio.run(run(dsn))
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"added video {video_id}")


@main.command("send-tool-call")
@click.option("--demo", "demo_id", required=True, help="Demo id (used as ?demo_id= unless --conversation).")
@click.option("--title", required=True, help="video_title argument.")
@click.option("--conversation", default=None, help="conversation_id registered by a session.")
@click.option("--url", default=None, help="Webhook URL (default: PUBLIC_BASE_URL/api/tavus-webhook).")
@click.pass_obj
def send_tool_call(
    settings: Settings, demo_id: str, title: str, conversation: str | None, url: str | None
) -> None:
    """Send a play_video tool call signed exactly as Tavus signs it (X-Tavus-Signature)."""
    body = tool_call_body(title, conversation)
    target = url or settings.webhook_url
    params = {} if conversation else {"demo_id": demo_id}
    headers = {
        "Content-Type": "application/json",
        "X-Tavus-Signature": tavus_hmac.sign(settings.webhook_secrets[0], body),
    }
    try:
        response = httpx.post(target, content=body, headers=headers, params=params, timeout=10)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"could not reach {target}: {exc}") from None
    click.echo(f"{response.status_code} {response.text}")
    if response.status_code >= 400:
        sys.exit(1)


@main.command("fake-supabase")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=54321, show_default=True, type=int)
@click.option(
    "--bucket",
    "buckets",
    multiple=True,
    default=("demo-videos",),
    show_default=True,
    help="NAME or NAME:public; repeatable.",
)
@click.option(
    "--jwt-secret", default=None, help="Project JWT secret (default: the Supabase CLI's local one)."
)
@click.option(
    "--private-policy",
    default="authenticated",
    show_default=True,
    help="Who may join and broadcast on private channels (the stand-in for RLS on realtime.messages): "
    "'authenticated' = any user JWT; 'claim:NAME' = only the topic the JWT's claim NAME names "
    "(claim:demo_relay_channel is this project's migration). service_role always may.",
)
def fake_supabase(
    host: str, port: int, buckets: tuple[str, ...], jwt_secret: str | None, private_policy: str
) -> None:
    """Run the local protocol-faithful Supabase (Storage + Realtime) the tests use, for local trials.

    It prints SUPABASE_URL and the anon / service_role keys to start `demo-relay serve` against."""
    from demo_relay.testing.fake_supabase import BucketSpec, PrivatePolicy, serve

    try:
        specs = [BucketSpec.parse(b) for b in buckets]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--bucket") from None
    try:
        policy = PrivatePolicy.parse(private_policy)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--private-policy") from None
    serve(host, port, jwt_secret=jwt_secret, buckets=specs, authorize=policy)


_NO_SETTINGS = {"fake-supabase"}


def tool_call_body(title: str, conversation_id: str | None) -> bytes:
    """The Tavus app-message shape of a play_video tool call (fixtures/tavus/tool_call.play_video.json)."""
    document: dict[str, Any] = {
        "message_type": "conversation",
        "event_type": "conversation.tool_call",
        "conversation_id": conversation_id,
        "inference_id": str(uuid.uuid4()),
        "properties": {
            "name": "play_video",
            "tool_call_id": f"call_{uuid.uuid4().hex[:12]}",
            "arguments": json.dumps({"video_title": title}),
        },
    }
    return json.dumps(document).encode()


def _print_banner(settings: Settings, demos: Any) -> None:
    base = settings.base_url
    program = sys.argv[0] if Path(sys.argv[0]).name == "demo-relay" else "demo-relay"
    env = f"DATA_DIR={settings.data_dir} " if settings.data_dir != Path(".data") else ""
    lines = [
        "",
        "demo-relay is ready",
        f"  page         {base}/",
        f"  API          {base}/api/demos   (OpenAPI: {base}/schema)",
        f"  webhook      {settings.webhook_url}",
    ]
    if settings.embedded_database:
        lines.append(f"  database     embedded Postgres under {settings.data_dir / 'pg'}")
    if settings.storage == "supabase":
        lines.append(
            f"  storage      Supabase bucket {settings.storage_bucket} at {settings.supabase_url} "
            f"({settings.storage_url_mode} URLs)"
        )
    else:
        lines.append(f"  storage      local files under {settings.media_dir}")
    overrides = (
        f", {len(settings.notifier_sessions)} per-session override(s)" if settings.notifier_sessions else ""
    )
    lines.append(f"  transport    {settings.notifier.value}{overrides}")
    for demo in demos[:3]:
        lines.append(f"  demo         {demo.name}: {base}/demos/{demo.id}?conversation_id=try-1")
        if demo.videos:
            title = json.dumps(demo.videos[0].title)
            lines.append(
                f"  try it       {env}{program} send-tool-call --url {settings.webhook_url} "
                f"--demo {demo.id} --title {title}"
            )
    lines.append("               (signs with TAVUS_WEBHOOK_SECRET, else the dev secret kept in DATA_DIR)")
    click.echo("\n".join(lines) + "\n")
