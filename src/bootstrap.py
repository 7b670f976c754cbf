"""The composition root: the one place that chooses implementations (dependency-injector).

Settings pick every adapter. Nothing here opens a connection at import or construction: the database
pool is opened in the Litestar lifespan (`Database.open`), singletons are created on first use after
that. Tests swap any provider with `container.<name>.override(...)`."""

from __future__ import annotations

from typing import Any, NoReturn

from dependency_injector import containers, providers

from demo_relay.adapters.clock import SystemClock
from demo_relay.adapters.notifiers.routing import RoutingNotifier, TransportTable
from demo_relay.adapters.notifiers.supabase_realtime import SupabaseRealtimeNotifier
from demo_relay.adapters.notifiers.websocket_hub import HubNotifier, WebSocketHub
from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.adapters.postgres.conversations import AsyncpgConversationDirectory
from demo_relay.adapters.postgres.database import Database
from demo_relay.adapters.postgres.ledger import AsyncpgDeliveryLedger
from demo_relay.adapters.signatures import verifiers_for
from demo_relay.adapters.storage.local import LocalMediaStorage
from demo_relay.adapters.storage.supabase import SupabaseVideoStorage
from demo_relay.adapters.supabase_connection import SupabaseConnection
from demo_relay.adapters.tokens.jwt_tokens import JwtChannelTokens
from demo_relay.adapters.tokens.realtime_tokens import SupabaseRealtimeTokens
from demo_relay.config import Settings
from demo_relay.domain.errors import ConfigurationError
from demo_relay.domain.models import Transport
from demo_relay.domain.use_cases.handle_webhook import HandleWebhook
from demo_relay.domain.use_cases.sessions import StartSession


def _not_available(what: str) -> NoReturn:
    raise ConfigurationError(f"{what} is not available in this build; use HUB_BACKEND=memory")


class Container(containers.DeclarativeContainer):
    settings: providers.Dependency[Settings] = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)

    # --- Postgres: one pool, opened in the lifespan ----------------------------------------------
    database = providers.Singleton(Database)
    pool = providers.Callable(lambda db: db.pool, database)
    catalog = providers.Singleton(
        AsyncpgDemoCatalog,
        pool=pool,
        title_match_threshold=providers.Callable(lambda s: s.title_match_threshold, settings),
    )
    conversations = providers.Singleton(AsyncpgConversationDirectory, pool=pool)
    ledger = providers.Singleton(AsyncpgDeliveryLedger, pool=pool)

    # --- Supabase: one connection (httpx pool), created on first use, closed in the lifespan -------
    supabase = providers.Singleton(
        SupabaseConnection,
        url=providers.Callable(lambda s: s.supabase_url, settings),
        service_key=providers.Callable(lambda s: s.supabase_service_role_key, settings),
    )

    # --- where video URLs come from (STORAGE) ----------------------------------------------------
    media_storage = providers.Singleton(
        LocalMediaStorage,
        media_dir=providers.Callable(lambda s: s.media_dir, settings),
        base_url=providers.Callable(lambda s: s.base_url, settings),
        secret=providers.Callable(lambda s: s.app_secret, settings),
        ttl_s=providers.Callable(lambda s: s.signed_url_ttl_s, settings),
        clock=clock,
    )
    supabase_storage = providers.Singleton(
        SupabaseVideoStorage,
        storage=providers.Callable(lambda c: c.storage, supabase),
        bucket=providers.Callable(lambda s: s.storage_bucket, settings),
        url_mode=providers.Callable(lambda s: s.storage_url_mode, settings),
        ttl_s=providers.Callable(lambda s: s.signed_url_ttl_s, settings),
        clock=clock,
    )
    # The same adapter gives URLs (VideoUrls) and takes files (VideoStore).
    video_urls = providers.Selector(
        providers.Callable(lambda s: s.storage, settings), local=media_storage, supabase=supabase_storage
    )
    video_store = video_urls

    # --- how events reach browsers (NOTIFIER, NOTIFIER_SESSIONS) --------------------------------
    hub = providers.Singleton(
        WebSocketHub,
        clock=clock,
        queue_size=providers.Callable(lambda s: s.hub_queue_size, settings),
    )
    transport_table = providers.Singleton(
        TransportTable,
        default=providers.Callable(lambda s: s.notifier, settings),
        overrides=providers.Callable(lambda s: s.notifier_sessions, settings),
    )
    realtime_notifier = providers.Singleton(
        SupabaseRealtimeNotifier,
        http=providers.Callable(lambda c: c.http, supabase),
        supabase_url=providers.Callable(lambda s: s.supabase_url, settings),
        service_key=providers.Callable(lambda s: s.supabase_service_role_key, settings),
        private=providers.Callable(lambda s: s.realtime_private, settings),
    )
    # Only the transports the settings select are built (the Supabase one needs its credentials).
    channel_notifiers = providers.Callable(
        lambda s, hub_notifier, realtime: {
            Transport.WEBSOCKET: hub_notifier,
            **({Transport.SUPABASE: realtime()} if s.uses_supabase_realtime else {}),
        },
        settings,
        providers.Singleton(HubNotifier, hub),
        realtime_notifier.provider,
    )
    notifier = providers.Singleton(RoutingNotifier, table=transport_table, notifiers=channel_notifiers)
    realtime_tokens = providers.Singleton(
        SupabaseRealtimeTokens,
        jwt_secret=providers.Callable(lambda s: s.supabase_jwt_secret or "", settings),
        ttl_s=providers.Callable(lambda s: s.session_token_ttl_s, settings),
        clock=clock,
    )

    tokens = providers.Singleton(
        JwtChannelTokens,
        secret=providers.Callable(lambda s: s.app_secret, settings),
        ttl_s=providers.Callable(lambda s: s.session_token_ttl_s, settings),
        clock=clock,
    )
    verifiers = providers.Callable(
        lambda s: verifiers_for(s.webhook_secrets, s.webhook_tolerance_s, s.webhook_allow_url_token),
        settings,
    )

    # --- use cases --------------------------------------------------------------------------------
    handle_webhook = providers.Singleton(
        HandleWebhook,
        verifiers=verifiers,
        catalog=catalog,
        conversations=conversations,
        ledger=ledger,
        urls=video_urls,
        notifier=notifier,
        clock=clock,
        max_body_bytes=providers.Callable(lambda s: s.max_webhook_bytes, settings),
    )
    start_session = providers.Singleton(
        StartSession, catalog=catalog, conversations=conversations, tokens=tokens, transports=transport_table
    )


def uses_supabase(settings: Settings) -> bool:
    return settings.storage == "supabase" or settings.uses_supabase_realtime


async def close_resources(container: Container) -> None:
    """Closes what the container opened besides the database (the lifespan calls it on shutdown)."""
    container.hub().close()
    if uses_supabase(container.settings()):
        await container.supabase().aclose()


def build_container(settings: Settings, **overrides: Any) -> Container:
    """A container for `settings`; `overrides` replace providers by name (tests)."""
    container = Container(settings=settings)
    for name, value in overrides.items():
        getattr(container, name).override(providers.Object(value))
    if settings.hub_backend != "memory":
        _not_available(f"HUB_BACKEND={settings.hub_backend}")
    # Fail at start, not on the first webhook, when the selected transports/storage can't be built.
    container.transport_table()
    if "notifier" not in overrides:
        container.notifier()
    if "video_urls" not in overrides and settings.storage != "local":
        container.video_urls()
    return container
