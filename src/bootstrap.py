"""The composition root: the one place that chooses implementations (dependency-injector).

Read it as a table: one provider per port, its arguments taken from the settings by name
(`settings.provided.x`); the few choices that need logic are named functions below the container. Nothing
here connects at import or construction: `running()` opens the database pool (inside the event loop that
will use it) and closes everything on the way out, for the app and the CLI alike; singletons are created on
first use after that. Tests swap any provider with `build_container(settings, name=value)`."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from dependency_injector import containers, providers

from demo_relay.adapters.clock import SystemClock
from demo_relay.adapters.notifiers.postgres_hub import PostgresEventLog, PostgresHubNotifier, PostgresHubRelay
from demo_relay.adapters.notifiers.routing import RoutingNotifier, TransportTable
from demo_relay.adapters.notifiers.supabase_realtime import SupabaseRealtimeNotifier
from demo_relay.adapters.notifiers.websocket_hub import HubNotifier, WebSocketHub
from demo_relay.adapters.postgres.catalog import AsyncpgDemoCatalog
from demo_relay.adapters.postgres.catalog_cache import CachedCatalog, CachedConversations, CatalogCache
from demo_relay.adapters.postgres.conversation_slots import AsyncpgConversationSlots
from demo_relay.adapters.postgres.conversations import AsyncpgConversationDirectory
from demo_relay.adapters.postgres.database import Database
from demo_relay.adapters.postgres.ledger import AsyncpgDeliveryLedger
from demo_relay.adapters.postgres.persona_sync import AsyncpgPersonaSyncQueue
from demo_relay.adapters.postgres.plays import AsyncpgPlayHistory
from demo_relay.adapters.postgres.write_behind import WriteBehind
from demo_relay.adapters.sample_clips import load_samples
from demo_relay.adapters.signatures import HmacCallbackTokens, verifiers_for
from demo_relay.adapters.storage.local import LocalMediaStorage
from demo_relay.adapters.storage.media_probe import FileProbe
from demo_relay.adapters.tavus.client import TavusClient
from demo_relay.adapters.tokens.jwt_tokens import JwtChannelTokens
from demo_relay.adapters.tokens.owner_tokens import StaticOwnerTokens
from demo_relay.adapters.tokens.owners import OwnerAuthority, SupabaseOwners
from demo_relay.adapters.tokens.realtime_tokens import SupabaseRealtimeTokens
from demo_relay.adapters.tokens.viewer_grants import JwtViewerGrants
from demo_relay.config import HUB_BACKENDS, Settings
from demo_relay.domain.errors import ConfigurationError
from demo_relay.domain.models import RealtimeProject, Transport
from demo_relay.domain.ports import Clock, Notifier, SignatureVerifier
from demo_relay.domain.use_cases.add_video import AddVideo
from demo_relay.domain.use_cases.agent_conversations import (
    EndConversation,
    ReapConversations,
    StartConversation,
)
from demo_relay.domain.use_cases.deliveries import Deliveries
from demo_relay.domain.use_cases.forward_tool_call import ForwardToolCall
from demo_relay.domain.use_cases.handle_webhook import HandleWebhook
from demo_relay.domain.use_cases.lifecycle import ConversationEnds, RecordLifecycle
from demo_relay.domain.use_cases.manage_demos import ManageDemos
from demo_relay.domain.use_cases.persona_sync import SyncPersonas
from demo_relay.domain.use_cases.play_video import PlayVideo
from demo_relay.domain.use_cases.purge import PurgeDeliveries
from demo_relay.domain.use_cases.seed import SeedSampleDemo
from demo_relay.domain.use_cases.sessions import StartSession
from demo_relay.domain.use_cases.viewer_links import MintViewerLink

T = TypeVar("T")


def _same(adapter: T) -> T:
    return adapter


def _verifiers(settings: Settings) -> list[SignatureVerifier]:
    return verifiers_for(
        settings.webhook_secrets, settings.webhook_tolerance_s, settings.webhook_allow_url_token
    )


def _channel_notifiers(
    settings: Settings, hub: Notifier, realtime: Callable[[], Notifier]
) -> Mapping[Transport, Notifier]:
    """Only the transports the settings select are built (the Supabase one needs its credentials)."""
    return {
        Transport.WEBSOCKET: hub,
        **({Transport.SUPABASE: realtime()} if settings.uses_supabase_realtime else {}),
    }


def _retention_s(settings: Settings) -> float:
    return settings.webhook_events_retention_days * 86400.0


def _realtime_project(settings: Settings) -> RealtimeProject | None:
    """What pages get to reach Supabase Realtime: the anon key, never the service key."""
    if not (settings.uses_supabase_realtime and settings.supabase_url and settings.supabase_anon_key):
        return None
    return RealtimeProject(settings.supabase_url, settings.supabase_anon_key, settings.realtime_private)


def _realtime_tokens(settings: Settings, clock: Clock) -> SupabaseRealtimeTokens | None:
    """Only private channels need Realtime tokens (and the project's JWT secret to sign them)."""
    if not (settings.uses_supabase_realtime and settings.realtime_private):
        return None
    return SupabaseRealtimeTokens(settings.supabase_jwt_secret or "", settings.realtime_token_ttl_s, clock)


def _scratch_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "tmp" / "fetched"


def _owners(settings: Settings) -> OwnerAuthority:
    """ADMIN_TOKEN holders, and Supabase Auth users of OWNER_EMAILS when those are listed (their keys: the
    JWT secret for HS256, the project's public JWKS for asymmetric keys)."""
    tokens = StaticOwnerTokens(settings.admin_tokens)
    if not settings.owner_emails:
        return OwnerAuthority(tokens)
    return OwnerAuthority(
        tokens,
        SupabaseOwners(
            settings.owner_emails, jwt_secret=settings.supabase_jwt_secret, supabase_url=settings.supabase_url
        ),
    )


def _tavus(settings: Settings) -> TavusClient | None:
    """The Tavus API client, only where TAVUS_API_KEY is set (the integration is off otherwise)."""
    if not settings.tavus_api_key:
        return None
    return TavusClient(
        settings.tavus_api_url,
        settings.tavus_api_key,
        settings.tavus_tool_delivery,
        webhook_secret=settings.webhook_secrets[0],
    )


def _lazy(target: str) -> Callable[..., Any]:
    """A factory of `module:Class` that imports the module on first use: the Supabase and Redis clients
    (about 0.4 s of imports) load only in a process whose settings ask for them (bench/cold_start.py)."""
    module, _, name = target.partition(":")

    def make(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    make.__name__ = name
    return make


class Container(containers.DeclarativeContainer):
    settings: providers.Dependency[Settings] = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)

    # --- Postgres: one pool, opened by running() -------------------------------------------------
    database = providers.Singleton(Database)
    # The hot path's reads from in-process copies kept true by NOTIFY (catalog_cache.py), and its writes
    # that the answer need not wait for written behind it in batches (write_behind.py).
    catalog_cache = providers.Singleton(CatalogCache, database=database)
    write_behind = providers.Singleton(WriteBehind, database=database)
    catalog = providers.Singleton(
        CachedCatalog,
        inner=providers.Singleton(
            AsyncpgDemoCatalog,
            pool=database.provided.pool,
            title_match_threshold=settings.provided.title_match_threshold,
        ),
        cache=catalog_cache,
    )
    # The same adapter implements the reads (DemoCatalog) and the writes (CatalogEditor); a provider of its
    # own, so either can be overridden alone.
    catalog_editor = providers.Callable(_same, catalog)
    conversations = providers.Singleton(
        CachedConversations,
        inner=providers.Singleton(AsyncpgConversationDirectory, pool=database.provided.pool),
        cache=catalog_cache,
    )
    ledger = providers.Singleton(AsyncpgDeliveryLedger, pool=database.provided.pool, writes=write_behind)
    play_history = providers.Singleton(AsyncpgPlayHistory, pool=database.provided.pool, writes=write_behind)
    persona_sync_queue = providers.Singleton(AsyncpgPersonaSyncQueue, pool=database.provided.pool)
    conversation_slots = providers.Singleton(AsyncpgConversationSlots, pool=database.provided.pool)

    # --- Tavus (TAVUS_API_KEY): one httpx client, made on first use, closed by running() ----------
    tavus = providers.Singleton(_tavus, settings)
    # The same client starts conversations (AgentConversations) and keeps the persona's tool (PersonaTools).
    agent = providers.Callable(_same, tavus)
    persona_tools = providers.Callable(_same, tavus)
    callback_tokens = providers.Singleton(HmacCallbackTokens, settings.provided.webhook_secrets)

    # --- Supabase: one connection (httpx pool), created on first use, closed by running() --------
    supabase = providers.Singleton(
        _lazy("demo_relay.adapters.supabase_connection:SupabaseConnection"),
        url=settings.provided.supabase_url,
        service_key=settings.provided.supabase_service_role_key,
    )

    # --- where videos are kept and their URLs come from (STORAGE) --------------------------------
    media_storage = providers.Singleton(
        LocalMediaStorage,
        media_dir=settings.provided.media_dir,
        base_url=settings.provided.base_url,
        secret=settings.provided.app_secret,
        ttl_s=settings.provided.signed_url_ttl_s,
        clock=clock,
    )
    supabase_storage = providers.Singleton(
        _lazy("demo_relay.adapters.storage.supabase:SupabaseVideoStorage"),
        storage=supabase.provided.storage,
        bucket=settings.provided.storage_bucket,
        url_mode=settings.provided.storage_url_mode,
        ttl_s=settings.provided.signed_url_ttl_s,
        clock=clock,
        http=supabase.provided.http,
        supabase_url=settings.provided.supabase_url,
        service_key=settings.provided.supabase_service_role_key,
        scratch_dir=providers.Callable(_scratch_dir, settings),
    )
    # The same adapter gives URLs (VideoUrls) and takes files (VideoStore).
    video_urls = providers.Selector(settings.provided.storage, local=media_storage, supabase=supabase_storage)
    video_store = providers.Callable(_same, video_urls)
    # Browsers upload straight to the store only where it can sign upload URLs (Supabase Storage).
    direct_uploads = providers.Selector(
        settings.provided.storage, local=providers.Object(None), supabase=supabase_storage
    )
    media_probe = providers.Singleton(FileProbe)
    samples = providers.Singleton(load_samples)

    # --- how events reach browsers (NOTIFIER, NOTIFIER_SESSIONS) ---------------------------------
    hub = providers.Singleton(WebSocketHub, clock=clock, queue_size=settings.provided.hub_queue_size)
    transport_table = providers.Singleton(
        TransportTable, default=settings.provided.notifier, overrides=settings.provided.notifier_sessions
    )
    realtime_notifier = providers.Singleton(
        SupabaseRealtimeNotifier,
        http=supabase.provided.http,
        supabase_url=settings.provided.supabase_url,
        service_key=settings.provided.supabase_service_role_key,
        private=settings.provided.realtime_private,
    )
    # HUB_BACKEND: the hub of this process alone (memory), or one across every instance on the database
    # (postgres: published into the event log and NOTIFY, delivered here by the relay's LISTEN connection).
    postgres_log = providers.Singleton(PostgresEventLog, database=database)
    redis_log = providers.Singleton(
        _lazy("demo_relay.adapters.notifiers.redis_hub:RedisEventLog"),
        url=settings.provided.redis_url,
        retention_s=providers.Callable(_retention_s, settings),
    )
    event_log = providers.Selector(
        settings.provided.hub_backend,
        memory=providers.Object(None),
        postgres=postgres_log,
        redis=redis_log,
    )
    hub_relay = providers.Selector(
        settings.provided.hub_backend,
        memory=providers.Object(None),
        postgres=providers.Singleton(PostgresHubRelay, dsn=database.provided.dsn, log=postgres_log, hub=hub),
        redis=providers.Singleton(
            _lazy("demo_relay.adapters.notifiers.redis_hub:RedisHubRelay"),
            url=settings.provided.redis_url,
            log=redis_log,
            hub=hub,
        ),
    )
    hub_notifier = providers.Selector(
        settings.provided.hub_backend,
        memory=providers.Singleton(HubNotifier, hub),
        postgres=providers.Singleton(PostgresHubNotifier, postgres_log),
        redis=providers.Singleton(
            _lazy("demo_relay.adapters.notifiers.redis_hub:RedisHubNotifier"), redis_log
        ),
    )
    notifier = providers.Singleton(
        RoutingNotifier,
        table=transport_table,
        notifiers=providers.Callable(_channel_notifiers, settings, hub_notifier, realtime_notifier.provider),
    )

    # --- credentials ----------------------------------------------------------------------------
    tokens = providers.Singleton(
        JwtChannelTokens,
        secret=settings.provided.app_secret,
        ttl_s=settings.provided.session_token_ttl_s,
        clock=clock,
    )
    realtime_tokens = providers.Singleton(_realtime_tokens, settings, clock)
    owners = providers.Singleton(_owners, settings)
    viewer_grants = providers.Singleton(JwtViewerGrants, secret=settings.provided.app_secret, clock=clock)
    verifiers = providers.Callable(_verifiers, settings)

    # --- use cases --------------------------------------------------------------------------------
    deliveries = providers.Singleton(Deliveries, ledger=ledger)
    play_video = providers.Singleton(
        PlayVideo,
        catalog=catalog,
        conversations=conversations,
        urls=video_urls,
        notifier=notifier,
        clock=clock,
        history=play_history,
    )
    # One end of a conversation at a time in this process: our end endpoint, the reaper, Tavus's shutdown.
    conversation_ends = providers.Singleton(ConversationEnds)
    lifecycle = providers.Singleton(
        RecordLifecycle,
        catalog=catalog,
        conversations=conversations,
        notifier=notifier,
        clock=clock,
        slots=conversation_slots,
        ends=conversation_ends,
    )
    handle_webhook = providers.Singleton(
        HandleWebhook,
        verifiers=verifiers,
        deliveries=deliveries,
        play_video=play_video,
        lifecycle=lifecycle,
        clock=clock,
        conversations=conversations,
        max_body_bytes=settings.provided.max_webhook_bytes,
    )
    forward_tool_call = providers.Singleton(
        ForwardToolCall,
        deliveries=deliveries,
        play_video=play_video,
        conversations=conversations,
        max_body_bytes=settings.provided.max_webhook_bytes,
    )
    start_session = providers.Singleton(
        StartSession,
        catalog=catalog,
        conversations=conversations,
        tokens=tokens,
        transports=transport_table,
        websocket_base_url=settings.provided.websocket_base_url,
        realtime=providers.Callable(_realtime_project, settings),
        realtime_tokens=realtime_tokens,
        conversation_url_hosts=settings.provided.conversation_url_hosts,
        grants=viewer_grants,
        slots=conversation_slots,
    )
    mint_viewer_link = providers.Singleton(
        MintViewerLink,
        catalog=catalog,
        grants=viewer_grants,
        page_base_url=settings.provided.base_url,
        conversation_url_hosts=settings.provided.conversation_url_hosts,
    )
    purge_deliveries = providers.Singleton(
        PurgeDeliveries, ledger=ledger, clock=clock, retention_s=providers.Callable(_retention_s, settings)
    )
    seed_sample_demo = providers.Singleton(
        SeedSampleDemo, catalog=catalog, editor=catalog_editor, store=video_store, samples=samples
    )
    add_video = providers.Singleton(
        AddVideo,
        catalog=catalog,
        editor=catalog_editor,
        store=video_store,
        probe=media_probe,
        max_bytes=settings.provided.max_video_bytes,
        direct=direct_uploads,
    )
    manage_demos = providers.Singleton(
        ManageDemos, catalog=catalog, editor=catalog_editor, store=video_store, history=play_history
    )
    sync_personas = providers.Singleton(
        SyncPersonas,
        catalog=catalog,
        queue=persona_sync_queue,
        tools=persona_tools,
        clock=clock,
        delivery=settings.provided.tavus_tool_delivery,
        webhook_url=settings.provided.webhook_url,
        poll_interval_s=settings.provided.tavus_sync_poll_s,
        first_retry_s=settings.provided.tavus_sync_retry_s,
    )
    start_conversation = providers.Singleton(
        StartConversation,
        catalog=catalog,
        agent=agent,
        slots=conversation_slots,
        conversations=conversations,
        callback_tokens=callback_tokens,
        sessions=start_session,
        clock=clock,
        webhook_url=settings.provided.webhook_url,
        max_concurrent=settings.provided.tavus_max_concurrent,
        max_call_s=settings.provided.tavus_max_call_s,
        default_replica_id=settings.provided.tavus_replica_id,
    )
    end_conversation = providers.Singleton(
        EndConversation,
        agent=agent,
        slots=conversation_slots,
        conversations=conversations,
        notifier=notifier,
        clock=clock,
        ends=conversation_ends,
    )
    reap_conversations = providers.Singleton(
        ReapConversations,
        agent=agent,
        slots=conversation_slots,
        conversations=conversations,
        notifier=notifier,
        clock=clock,
        ends=conversation_ends,
    )


def build_container(settings: Settings, **overrides: Any) -> Container:
    """A container for `settings`; `overrides` replace providers by name (tests). Fails at start, not on
    the first webhook, when the selected transports, storage or tokens can't be built."""
    if settings.hub_backend not in HUB_BACKENDS:
        raise ConfigurationError(f"HUB_BACKEND={settings.hub_backend} is not available in this build")
    container = Container(settings=settings)
    for name, value in overrides.items():
        getattr(container, name).override(providers.Object(value))
    container.transport_table()
    container.realtime_tokens()
    if "notifier" not in overrides:
        container.notifier()
    if "video_urls" not in overrides and settings.storage != "local":
        container.video_urls()
    return container


@asynccontextmanager
async def running(container: Container, dsn: str, *, migrate: bool = True) -> AsyncIterator[list[str]]:
    """Opens the database (and applies pending migrations unless told not to), yields the migrations it
    applied, and on the way out closes what the container opened, in reverse order of need."""
    settings = container.settings()
    database = container.database()
    await database.open(dsn)
    cache = asyncio.create_task(container.catalog_cache().run(), name="catalog-cache")
    try:
        yield await database.migrate() if migrate else []
    finally:
        cache.cancel()
        await asyncio.gather(cache, return_exceptions=True)
        try:
            await container.write_behind().close()  # before the pool closes
            container.hub().close()
            await container.owners().aclose()
            tavus = container.tavus()
            if tavus is not None:
                await tavus.aclose()
            if settings.hub_backend == "redis":
                await container.redis_log().aclose()
            if settings.storage == "supabase":
                await container.supabase_storage().aclose()
            if settings.storage == "supabase" or settings.uses_supabase_realtime:
                await container.supabase().aclose()
        finally:
            await database.close()
