"""`demo-relay`: serve, migrate, seed, demos, add-video, send-tool-call, purge. Every command reads the
same settings."""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import logging
import signal
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import click
import httpx

from demo_relay.adapters.postgres.embedded import EmbeddedPostgres
from demo_relay.adapters.signatures import tavus_hmac
from demo_relay.bootstrap import Container, build_container, running
from demo_relay.config import ADMIN_TOKEN_FILE, Settings, load_settings
from demo_relay.domain.errors import DomainError
from demo_relay.domain.models import PLAY_VIDEO_TOOL, Demo

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
    """The container with its resources open (the same `running` as the app's lifespan)."""
    container = build_container(settings)
    async with running(container, dsn):
        yield container


@main.command()
@click.option("--seed/--no-seed", default=True, show_default=True, help="Seed the sample demo when empty.")
@click.pass_obj
def serve(settings: Settings, seed: bool) -> None:
    """Migrate, seed the sample demo when the database is empty, and serve HTTP + WebSocket."""
    # The web stack's imports (Litestar, uvicorn: a few hundred ms) load in a thread while the embedded
    # Postgres starts (a subprocess this thread only waits for): a restart is ready sooner
    # (bench/cold_start.py).
    preload = threading.Thread(target=_import_web_stack, name="preload", daemon=True)
    preload.start()

    async def on_ready(container: Container) -> None:
        if seed:
            # Several instances may start at once on an empty database: one seeds, the others find it.
            async with container.database().exclusively():
                await container.seed_sample_demo().execute()
        demos = list(await container.catalog().list_demos())[:BANNER_DEMOS]
        # A viewer link per demo, so a newcomer opens the page in one click.
        mint = container.mint_viewer_link()
        links = [(await mint.execute(demo.id, BANNER_CONVERSATION)).url for demo in demos]
        _print_banner(settings, list(zip(demos, links, strict=True)))
        _settle_garbage_collector()

    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler that was there
    # before it started. With Python's default that kills the process before `database_url` can stop the
    # embedded Postgres; this handler turns it into SystemExit, so the cleanup runs.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with database_url(settings) as dsn:
        preload.join()
        from demo_relay.entrypoints.http.access_log import redact_server_logs
        from demo_relay.entrypoints.http.app import create_app
        from demo_relay.entrypoints.http.server import GracefulServer, uvicorn_config

        try:
            container = build_container(settings)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        app = create_app(container, dsn=dsn, on_ready=on_ready)
        redact_server_logs()
        config = uvicorn_config(app, settings)
        server = GracefulServer(config, drain=container.hub().close)
        server.run()
        if not server.started:
            sys.exit(3)  # uvicorn's own "startup failed" status


def _settle_garbage_collector() -> None:
    """Once started: what start-up made (modules, the app, the container) lives as long as the process, so
    it leaves the collector's generations (`gc.freeze`) and full collections stop walking it; the youngest
    generation is collected every 10,000 allocations instead of 700, so a webhook (a few hundred
    allocations) no longer triggers one every few requests. Cycles are still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 50)


def _import_web_stack() -> None:
    for module in ("demo_relay.entrypoints.http.app", "demo_relay.entrypoints.http.server", "uvicorn"):
        importlib.import_module(module)


def _exit_on_sigterm(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


@main.command()
@click.pass_obj
def migrate(settings: Settings) -> None:
    """Apply pending SQL migrations (each once, in order, under an advisory lock)."""

    async def run(dsn: str) -> list[str]:
        async with running(build_container(settings), dsn) as applied:
            return applied

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
            return await container.seed_sample_demo().execute(force=force)

    with database_url(settings) as dsn:
        demo = asyncio.run(run(dsn))
    click.echo(f"seeded demo {demo.id}" if demo else "demos exist already; nothing seeded (use --force)")


@main.command("add-video")
@click.option("--demo", "demo_id", required=True, help="Demo id.")
@click.option("--title", required=True, help="Title the agent will use.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def add_video(settings: Settings, demo_id: str, title: str, file: Path) -> None:
    """Put FILE (MP4, QuickTime or WebM; its duration is read from it) into the video store (local, or the
    Supabase bucket) as a video of a demo: the same use case as the owner API's upload."""

    async def run(dsn: str) -> str:
        async with opened(settings, dsn) as container:
            video = await container.add_video().execute(demo_id, title, file)
            return video.id

    with database_url(settings) as dsn:
        try:
            video_id = asyncio.run(run(dsn))
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"added video {video_id}")


@main.command()
@click.pass_obj
def demos(settings: Settings) -> None:
    """List the demos and their videos (id, title, duration, type, size)."""

    async def run(dsn: str) -> list[Demo]:
        async with opened(settings, dsn) as container:
            return list(await container.catalog().list_demos())

    with database_url(settings) as dsn:
        found = asyncio.run(run(dsn))
    if not found:
        click.echo("no demos yet (demo-relay seed adds the sample demo)")
    for demo in found:
        click.echo(
            f"{demo.id}  {demo.name}  ({len(demo.videos)} video{'s' if len(demo.videos) != 1 else ''})"
        )
        for video in demo.videos:
            duration = f"{video.duration_s:.1f} s" if video.duration_s else "? s"
            size = f"{video.size_bytes} bytes" if video.size_bytes is not None else ""
            click.echo(
                f"    {video.id}  {video.title!r}  {duration}  {video.content_type or ''}  {size}".rstrip()
            )


@main.command()
@click.option(
    "--older-than",
    "older_than",
    default=None,
    metavar="AGE",
    help="e.g. 7d, 12h, 90m (default: WEBHOOK_EVENTS_RETENTION_DAYS).",
)
@click.pass_obj
def purge(settings: Settings, older_than: str | None) -> None:
    """Forget webhook deliveries older than AGE (serve also does this hourly, at the retention)."""
    age_s = _age_s(older_than) if older_than else None

    async def run(dsn: str) -> int:
        async with opened(settings, dsn) as container:
            return await container.purge_deliveries().execute(age_s)

    with database_url(settings) as dsn:
        removed = asyncio.run(run(dsn))
    click.echo(f"forgot {removed} deliveries")


_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MIN_AGE_S = 86400


def _age_s(text: str) -> float:
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in _AGE_UNITS or not value.isdigit() or int(value) <= 0:
        raise click.BadParameter(
            f"{text!r}: a positive whole number and s, m, h or d (e.g. 7d)", param_hint="--older-than"
        )
    age_s = int(value) * _AGE_UNITS[unit]
    if age_s < _MIN_AGE_S:  # younger deliveries still decide whether a retry is a repeat
        raise click.BadParameter(f"{text!r}: at least 1d", param_hint="--older-than")
    return age_s


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


# Development tools live in their own distribution (devtools/, installed by `make install`), never in the
# product: this command only forwards to it, and says how to get it where it is absent.
_DEVTOOLS = {
    "fake-supabase": ("fake_supabase.cli", "command"),
    "fake-tavus": ("fake_tavus.cli", "command"),
}
_DEVTOOLS_HINT = (
    "{name} is a development tool and is not installed here. From a checkout of demo-relay: "
    "pip install -e devtools   (make install does this)"
)


@main.command(
    "fake-supabase",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.pass_context
def fake_supabase(ctx: click.Context) -> None:
    """Run the local protocol-faithful Supabase the tests use (development tool; --help for its options)."""
    _run_devtool(ctx, "fake-supabase")


@main.command(
    "fake-tavus",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.pass_context
def fake_tavus(ctx: click.Context) -> None:
    """Run the local protocol-faithful Tavus API the tests use (development tool; --help for its options)."""
    _run_devtool(ctx, "fake-tavus")


def _run_devtool(ctx: click.Context, name: str) -> None:
    module_name, attribute = _DEVTOOLS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise
        raise click.ClickException(_DEVTOOLS_HINT.format(name=name)) from None
    command: click.Command = getattr(module, attribute)
    command.main(args=ctx.args, prog_name=f"demo-relay {name}")


_NO_SETTINGS = set(_DEVTOOLS)


def tool_call_body(title: str, conversation_id: str | None) -> bytes:
    """The Tavus app-message shape of a play_video tool call (fixtures/tavus/tool_call.play_video.json)."""
    document: dict[str, Any] = {
        "message_type": "conversation",
        "event_type": "conversation.tool_call",
        "conversation_id": conversation_id,
        "inference_id": str(uuid.uuid4()),
        "properties": {
            "name": PLAY_VIDEO_TOOL,
            "tool_call_id": f"call_{uuid.uuid4().hex[:12]}",
            "arguments": json.dumps({"video_title": title}),
        },
    }
    return json.dumps(document).encode()


BANNER_DEMOS = 3
BANNER_CONVERSATION = "try-1"


def _print_banner(settings: Settings, demos: list[tuple[Demo, str]]) -> None:
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
    if settings.tavus_enabled:
        lines.append(
            f"  tavus        {settings.tavus_api_url} (play_video by {settings.tavus_tool_delivery.value}, "
            f"at most {settings.tavus_max_concurrent} conversations at once): put a persona id on a demo, "
            "then Start"
        )
    else:
        lines.append("  tavus        off (set TAVUS_API_KEY to sync personas and start conversations here)")
    kept = settings.data_dir / "secrets" / ADMIN_TOKEN_FILE  # where dev mode keeps it; never printed
    generated = kept.is_file() and kept.read_text().strip() in settings.admin_tokens
    owner = f"kept in {kept}" if generated else "ADMIN_TOKEN"
    lines.append(f"  owner token  {owner} (sign in with it at {settings.base_url}/ to manage demos)")
    for demo, link in demos:
        lines.append(f"  demo         {demo.name}: {link}")
        if demo.videos:
            title = json.dumps(demo.videos[0].title)
            lines.append(
                f"  try it       {env}{program} send-tool-call --url {settings.webhook_url} "
                f"--demo {demo.id} --title {title}"
            )
    lines.append("               (signs with TAVUS_WEBHOOK_SECRET, else the dev secret kept in DATA_DIR)")
    click.echo("\n".join(lines) + "\n")
