"""The Litestar app factory. Small on purpose: routes are in their modules, implementations come from
the container (src/bootstrap.py), resources open and close in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from demo_relay.bootstrap import Container, running
from demo_relay.domain.use_cases.sessions import conversation_url_pattern
from demo_relay.entrypoints.http.access_log import access_log_middleware
from demo_relay.entrypoints.http.allow import options_handlers
from demo_relay.entrypoints.http.auth import OWNERS_STATE
from demo_relay.entrypoints.http.demos import (
    create_session,
    create_viewer_link,
    get_demo,
    get_tool,
    list_demos,
    watch_demo,
)
from demo_relay.entrypoints.http.errors import EXCEPTION_HANDLERS
from demo_relay.entrypoints.http.health import healthz, readyz
from demo_relay.entrypoints.http.limits import ConnectionLimits, per_minute
from demo_relay.entrypoints.http.media import media_router
from demo_relay.entrypoints.http.metrics import METRICS_STATE, Metrics, metrics_endpoint
from demo_relay.entrypoints.http.openapi import COMPONENTS, state_conversation_url_rule
from demo_relay.entrypoints.http.owner import direct_upload_handlers, open_handlers, owner_handlers
from demo_relay.entrypoints.http.pages import openapi_viewer, page_handlers
from demo_relay.entrypoints.http.tavus import end_conversation, start_conversation_route, sync_now
from demo_relay.entrypoints.http.webhook import session_tool_call, tavus_webhook
from demo_relay.entrypoints.http.ws import ws_handler
from demo_relay.entrypoints.http.ws_direct import expose_websocket_protocol

log = logging.getLogger("demo_relay")

StartupHook = Callable[[Container], Awaitable[None]]
RETENTION_INTERVAL_S = 3600.0
RELAY_READY_WITHIN_S = 10.0


async def _purge_event_log(container: Container) -> None:
    """The shared hub's event log keeps what the webhook_events retention keeps (at least the late-join
    window), purged with the same rhythm."""
    settings = container.settings()
    retention = timedelta(days=settings.webhook_events_retention_days)
    while True:
        try:
            event_log = container.event_log()
            removed = await event_log.purge(datetime.now(UTC) - retention) if event_log else 0
            if removed:
                log.info("retention: forgot %d hub events", removed)
        except Exception:  # the database away for a while: the next turn tries again
            log.warning("event log retention failed", exc_info=True)
        await asyncio.sleep(RETENTION_INTERVAL_S)


def create_app(
    container: Container, *, dsn: str, migrate: bool = True, on_ready: StartupHook | None = None
) -> Litestar:
    settings = container.settings()
    metrics = Metrics(container.hub())
    connection_limits = ConnectionLimits(settings.ws_max_per_token, settings.ws_max_per_client)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with running(container, dsn, migrate=migrate) as applied:
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            if on_ready is not None:
                await on_ready(container)
            tasks = [asyncio.create_task(container.purge_deliveries().run_every(RETENTION_INTERVAL_S))]
            relay = container.hub_relay()
            if relay is not None:  # HUB_BACKEND=postgres or redis: this instance hears the others
                tasks.append(asyncio.create_task(relay.run(), name="hub-relay"))
                tasks.append(asyncio.create_task(_purge_event_log(container), name="event-log-retention"))
                try:  # ready once this instance hears the others (it keeps trying if not yet)
                    await asyncio.wait_for(relay.connected.wait(), RELAY_READY_WITHIN_S)
                except TimeoutError:
                    log.warning("the hub's LISTEN connection is not up yet; events will follow once it is")
            if settings.tavus_enabled:
                # Persona sync and the reaper of leaked conversations run in every instance: the database
                # hands each due demo / overdue conversation to one of them.
                tasks.append(asyncio.create_task(container.sync_personas().run_forever()))
                tasks.append(
                    asyncio.create_task(
                        container.reap_conversations().run_every(settings.tavus_reap_interval_s)
                    )
                )
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def provide(factory: Callable[[], Any]) -> Provide:
        # Litestar inspects the callable's signature, which a dependency-injector provider doesn't have.
        return Provide(lambda: factory(), sync_to_thread=False, use_cache=True)

    handlers: list[Any] = [
        tavus_webhook,
        Router(
            "/",
            route_handlers=[session_tool_call],
            middleware=[per_minute("bridge", settings.rate_limit_bridge_per_min).middleware],
        ),
        list_demos,
        get_demo,
        get_tool,
        create_viewer_link,
        watch_demo,
        *owner_handlers,
        sync_now,
        end_conversation,
        start_conversation_route(settings.rate_limit_sessions_per_min),
        *(direct_upload_handlers if settings.storage == "supabase" else []),
        *open_handlers,
        Router(
            "/",
            route_handlers=[create_session],
            middleware=[per_minute("sessions", settings.rate_limit_sessions_per_min).middleware],
        ),
        healthz,
        readyz,
        metrics_endpoint,
        ws_handler,
        media_router,
        *page_handlers,
    ]
    app = Litestar(
        # Each path's OPTIONS handler comes first (allow.py says why).
        route_handlers=[*options_handlers(handlers), *handlers],
        dependencies={
            "settings": provide(lambda: settings),
            "handle_webhook": provide(container.handle_webhook),
            "forward_tool_call": provide(container.forward_tool_call),
            "start_session": provide(container.start_session),
            "mint_viewer_link": provide(container.mint_viewer_link),
            "manage_demos": provide(container.manage_demos),
            "sync_personas": provide(container.sync_personas),
            "start_conversation": provide(container.start_conversation),
            "end_conversation": provide(container.end_conversation),
            "add_video": provide(container.add_video),
            "catalog": provide(container.catalog),
            "tokens": provide(container.tokens),
            "hub": provide(container.hub),
            "media_storage": provide(container.media_storage),
            "database": provide(container.database),
            "metrics": provide(lambda: metrics),
            "connection_limits": provide(lambda: connection_limits),
            "conversations": provide(container.conversations),
            # The shared log pages catch up from (HUB_BACKEND=postgres); None: this process's hub alone.
            "event_log": provide(container.event_log),
            "hub_relay": provide(container.hub_relay),
        },
        lifespan=[lifespan],
        state=State({OWNERS_STATE: container.owners(), METRICS_STATE: metrics}),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_webhook_bytes,
        cors_config=CORSConfig(
            allow_origins=list(settings.origins), allow_methods=["GET", "POST", "PATCH", "DELETE"]
        ),
        openapi_config=OpenAPIConfig(
            title="demo-relay",
            version="0.1.0",
            path="/schema",
            components=COMPONENTS,
            render_plugins=[plugin for plugin in [openapi_viewer()] if plugin is not None],
        ),
        debug=False,
        # Our own logging setup (CLI) stays in charge; Litestar's would replace the root handlers.
        logging_config=None,
    )
    state_conversation_url_rule(app, conversation_url_pattern(settings.conversation_url_hosts))
    # Around the whole app, not as route middleware: requests no route matches (404, 405) are logged too.
    app.asgi_handler = access_log_middleware(expose_websocket_protocol(app.asgi_handler))
    return app
