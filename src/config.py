"""Settings: environment variables, optionally a `demo-relay.toml` with the same keys (see docs/contract.md).

Nothing is read at import time: `load_settings()` is called by the CLI / app factory, and tests build
`Settings(...)` directly."""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from demo_relay.domain.errors import ConfigurationError
from demo_relay.domain.models import ToolDelivery, Transport
from demo_relay.domain.use_cases.sessions import conversation_url_pattern

TOML_FILE = "demo-relay.toml"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""  # derived from host/port when empty
    database_url: str | None = None  # None: embedded Postgres under data_dir/pg
    data_dir: Path = Path(".data")
    webhook_secrets: tuple[str, ...] = ()
    webhook_allow_url_token: bool = True
    webhook_tolerance_s: int = 300
    storage: str = "local"
    supabase_url: str | None = None
    supabase_service_role_key: str | None = None
    supabase_anon_key: str | None = None
    # Signs the short-lived Realtime tokens pages need for private channels (the project's JWT secret).
    supabase_jwt_secret: str | None = None
    storage_bucket: str = "demo-videos"
    storage_url_mode: str = "signed"
    signed_url_ttl_s: int = 3600
    notifier: Transport = Transport.WEBSOCKET
    notifier_sessions: Mapping[str, Transport] = field(default_factory=dict)
    realtime_private: bool = False
    hub_backend: str = "memory"
    redis_url: str | None = None  # HUB_BACKEND=redis
    allowed_origins: tuple[str, ...] = ()  # empty: PUBLIC_BASE_URL's origin
    max_webhook_bytes: int = 65536
    max_video_bytes: int = 524_288_000  # 500 MB
    title_match_threshold: float = 0.3
    # Signs channel tokens and local media URLs. Empty: generated once and kept in DATA_DIR.
    app_secret: str = ""
    # Owner tokens (ADMIN_TOKEN, comma-separated for rotation). Empty: generated in embedded dev mode.
    admin_tokens: tuple[str, ...] = ()
    owner_emails: tuple[str, ...] = ()  # exact addresses and @domain.com entries, lower case
    session_token_ttl_s: int = 12 * 3600
    # A page's Supabase Realtime token (private channels) lives minutes: the page renews it with a fresh
    # session two minutes before it expires, so a leaked one is soon worth nothing.
    realtime_token_ttl_s: int = 600
    hub_queue_size: int = 256
    ws_max_message_bytes: int = 4096
    # How long webhook_events rows are kept (and so how long an unsigned-timestamp repeat is a duplicate).
    webhook_events_retention_days: int = 30
    # Requests per minute and client address on the endpoints a page calls (sessions, the bridge); the
    # signed webhook is Tavus's and is not limited.
    rate_limit_sessions_per_min: int = 30
    rate_limit_bridge_per_min: int = 120
    # WebSocket connections at once: per session token (tabs, reloads) and per client address.
    ws_max_per_token: int = 8
    ws_max_per_client: int = 200
    # A request head (and the first bytes of a new connection) must arrive within this many seconds.
    http_header_timeout_s: float = 10.0
    # Hosts the page may frame as the conversation (Tavus rooms are Daily rooms): `*.x` = any subdomain.
    conversation_url_hosts: tuple[str, ...] = ("*.daily.co",)
    log_level: str = "INFO"
    # The Tavus integration (on when the key is set): persona sync and conversations started by us.
    tavus_api_key: str | None = None
    tavus_api_url: str = "https://tavusapi.com/v2"
    tavus_replica_id: str | None = None
    tavus_tool_delivery: ToolDelivery = ToolDelivery.APP_MESSAGE
    tavus_max_concurrent: int = 3
    tavus_max_call_s: int = 1800
    # How often each instance looks for demos whose persona is due for a sync, and for overdue calls.
    tavus_sync_poll_s: float = 1.0
    tavus_sync_retry_s: float = 5.0  # the first retry of a failed sync; each next one waits twice as long
    tavus_reap_interval_s: float = 60.0

    @property
    def tavus_enabled(self) -> bool:
        return bool(self.tavus_api_key)

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def websocket_base_url(self) -> str:
        return self.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)

    @property
    def origins(self) -> tuple[str, ...]:
        if self.allowed_origins:
            return self.allowed_origins
        parts = urlsplit(self.base_url)
        return (f"{parts.scheme}://{parts.netloc}",)

    @property
    def transports_in_use(self) -> set[Transport]:
        return {self.notifier, *self.notifier_sessions.values()}

    @property
    def uses_supabase_realtime(self) -> bool:
        return bool(self.transports_in_use & {Transport.SUPABASE, Transport.BOTH})

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/api/tavus-webhook"


def load_settings(environ: Mapping[str, str] | None = None, toml_path: Path | None = None) -> Settings:
    """Environment over TOML over defaults; validates, and fills dev-mode secrets from DATA_DIR."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = toml_path or Path(env.get("DEMO_RELAY_CONFIG", TOML_FILE))
    if path.is_file():
        values.update(_from_toml(tomllib.loads(path.read_text())))
    values.update({k.lower(): v for k, v in env.items() if k.lower() in _KEYS})
    return _finish(_build(values))


_KEYS = {
    "host", "port", "public_base_url", "database_url", "data_dir", "tavus_webhook_secret",
    "webhook_allow_url_token", "webhook_tolerance_s", "storage", "supabase_url", "supabase_service_role_key",
    "supabase_anon_key", "supabase_jwt_secret", "storage_bucket", "storage_url_mode", "signed_url_ttl_s",
    "notifier", "notifier_sessions", "realtime_private", "hub_backend", "redis_url", "allowed_origins",
    "max_webhook_bytes", "max_video_bytes", "title_match_threshold", "app_secret", "session_token_ttl_s",
    "log_level",
    "realtime_token_ttl_s",
    "webhook_events_retention_days", "admin_token", "owner_emails",
    "rate_limit_sessions_per_min", "rate_limit_bridge_per_min",
    "ws_max_per_token", "ws_max_per_client", "http_header_timeout_s", "conversation_url_hosts",
    "tavus_api_key", "tavus_api_url", "tavus_replica_id", "tavus_tool_delivery", "tavus_max_concurrent",
    "tavus_max_call_s", "tavus_sync_poll_s", "tavus_sync_retry_s", "tavus_reap_interval_s",
}  # fmt: skip


def _from_toml(document: Mapping[str, Any]) -> dict[str, Any]:
    values = {k.lower(): v for k, v in document.items() if k.lower() in _KEYS and not isinstance(v, dict)}
    notifier = document.get("notifier")
    if isinstance(notifier, dict):  # [notifier] default = "...", [notifier.sessions] "demo-<id>" = "..."
        if "default" in notifier:
            values["notifier"] = notifier["default"]
        if isinstance(notifier.get("sessions"), dict):
            values["notifier_sessions"] = dict(notifier["sessions"])
    return values


def _build(values: Mapping[str, Any]) -> Settings:
    def get(key: str, default: Any = None) -> Any:
        value = values.get(key)
        return default if value is None or value == "" else value

    supabase_url = get("supabase_url")
    storage = str(get("storage", "supabase" if supabase_url else "local")).lower()
    notifier = _transport(get("notifier", "supabase" if supabase_url else "websocket"), "NOTIFIER")
    secrets_raw = get("tavus_webhook_secret", "")
    return Settings(
        host=str(get("host", "127.0.0.1")),
        port=_int(get("port", 8000), "PORT"),
        public_base_url=str(get("public_base_url", "")),
        database_url=get("database_url"),
        data_dir=Path(str(get("data_dir", ".data"))),
        webhook_secrets=tuple(s.strip() for s in str(secrets_raw).split(",") if s.strip()),
        webhook_allow_url_token=_bool(get("webhook_allow_url_token", True), "WEBHOOK_ALLOW_URL_TOKEN"),
        webhook_tolerance_s=_int(get("webhook_tolerance_s", 300), "WEBHOOK_TOLERANCE_S"),
        storage=storage,
        supabase_url=supabase_url,
        supabase_service_role_key=get("supabase_service_role_key"),
        supabase_anon_key=get("supabase_anon_key"),
        supabase_jwt_secret=get("supabase_jwt_secret"),
        storage_bucket=str(get("storage_bucket", "demo-videos")),
        storage_url_mode=str(get("storage_url_mode", "signed")).lower(),
        signed_url_ttl_s=_int(get("signed_url_ttl_s", 3600), "SIGNED_URL_TTL_S"),
        notifier=notifier,
        notifier_sessions=_sessions(get("notifier_sessions", {})),
        realtime_private=_bool(get("realtime_private", False), "REALTIME_PRIVATE"),
        hub_backend=str(get("hub_backend", "memory")).lower(),
        redis_url=get("redis_url"),
        allowed_origins=_list(get("allowed_origins", ())),
        max_webhook_bytes=_int(get("max_webhook_bytes", 65536), "MAX_WEBHOOK_BYTES"),
        max_video_bytes=_int(get("max_video_bytes", 524_288_000), "MAX_VIDEO_BYTES"),
        title_match_threshold=_float(get("title_match_threshold", 0.3), "TITLE_MATCH_THRESHOLD"),
        app_secret=str(get("app_secret", "")),
        admin_tokens=tuple(t.strip() for t in str(get("admin_token", "")).split(",") if t.strip()),
        owner_emails=tuple(e.strip().lower() for e in _list(get("owner_emails", ())) if e.strip()),
        session_token_ttl_s=_int(get("session_token_ttl_s", 12 * 3600), "SESSION_TOKEN_TTL_S"),
        realtime_token_ttl_s=_int(get("realtime_token_ttl_s", 600), "REALTIME_TOKEN_TTL_S"),
        log_level=str(get("log_level", "INFO")).upper(),
        webhook_events_retention_days=_int(
            get("webhook_events_retention_days", 30), "WEBHOOK_EVENTS_RETENTION_DAYS"
        ),
        rate_limit_sessions_per_min=_int(
            get("rate_limit_sessions_per_min", 30), "RATE_LIMIT_SESSIONS_PER_MIN"
        ),
        rate_limit_bridge_per_min=_int(get("rate_limit_bridge_per_min", 120), "RATE_LIMIT_BRIDGE_PER_MIN"),
        ws_max_per_token=_int(get("ws_max_per_token", 8), "WS_MAX_PER_TOKEN"),
        ws_max_per_client=_int(get("ws_max_per_client", 200), "WS_MAX_PER_CLIENT"),
        http_header_timeout_s=_float(get("http_header_timeout_s", 10.0), "HTTP_HEADER_TIMEOUT_S"),
        conversation_url_hosts=tuple(
            host.lower() for host in _list(get("conversation_url_hosts", ("*.daily.co",)))
        ),
        tavus_api_key=get("tavus_api_key"),
        tavus_api_url=str(get("tavus_api_url", "https://tavusapi.com/v2")).rstrip("/"),
        tavus_replica_id=get("tavus_replica_id"),
        tavus_tool_delivery=_delivery(get("tavus_tool_delivery", "app_message")),
        tavus_max_concurrent=_int(get("tavus_max_concurrent", 3), "TAVUS_MAX_CONCURRENT"),
        tavus_max_call_s=_int(get("tavus_max_call_s", 1800), "TAVUS_MAX_CALL_S"),
        tavus_sync_poll_s=_float(get("tavus_sync_poll_s", 1.0), "TAVUS_SYNC_POLL_S"),
        tavus_sync_retry_s=_float(get("tavus_sync_retry_s", 5.0), "TAVUS_SYNC_RETRY_S"),
        tavus_reap_interval_s=_float(get("tavus_reap_interval_s", 60.0), "TAVUS_REAP_INTERVAL_S"),
    )


def _finish(settings: Settings) -> Settings:
    """Validates combinations and supplies generated dev secrets (kept in DATA_DIR, so they survive
    restarts and the CLI's `send-tool-call` signs with the same one the server verifies with)."""
    if settings.storage not in ("local", "supabase"):
        raise ConfigurationError(f"STORAGE must be 'local' or 'supabase', not {settings.storage!r}")
    if settings.storage_url_mode not in ("signed", "public"):
        raise ConfigurationError("STORAGE_URL_MODE must be 'signed' or 'public'")
    if settings.hub_backend not in HUB_BACKENDS:
        raise ConfigurationError(
            f"HUB_BACKEND must be memory, postgres or redis, not {settings.hub_backend!r}"
        )
    if settings.hub_backend == "redis" and not (settings.redis_url or "").startswith(
        ("redis://", "rediss://")
    ):
        raise ConfigurationError("HUB_BACKEND=redis needs REDIS_URL (redis:// or rediss://)")
    _check_supabase(settings)
    _check_tavus(settings)
    if not 0.0 < settings.title_match_threshold <= 1.0:
        raise ConfigurationError("TITLE_MATCH_THRESHOLD must be in (0, 1]")
    if settings.max_video_bytes < 1024:
        raise ConfigurationError("MAX_VIDEO_BYTES must be at least 1024")
    if settings.max_webhook_bytes < 1024:
        raise ConfigurationError("MAX_WEBHOOK_BYTES must be at least 1024")
    _check_safe(settings)
    webhook_secrets = settings.webhook_secrets
    if not webhook_secrets:
        if not settings.embedded_database:
            raise ConfigurationError(
                "TAVUS_WEBHOOK_SECRET is required when DATABASE_URL is set (only the embedded dev mode "
                "generates one)"
            )
        webhook_secrets = (dev_secret(settings.data_dir, "tavus_webhook_secret"),)
    app_secret = settings.app_secret or dev_secret(settings.data_dir, "app_secret")
    admin_tokens = settings.admin_tokens
    if not admin_tokens:
        if not settings.embedded_database:
            raise ConfigurationError(
                "ADMIN_TOKEN is required when DATABASE_URL is set (only the embedded dev mode generates one)"
            )
        admin_tokens = (dev_secret(settings.data_dir, ADMIN_TOKEN_FILE),)
    return replace(
        settings, webhook_secrets=webhook_secrets, app_secret=app_secret, admin_tokens=admin_tokens
    )


HUB_BACKENDS = ("memory", "postgres", "redis")
ADMIN_TOKEN_FILE = "admin_token"  # under DATA_DIR/secrets in embedded dev mode
MIN_WEBHOOK_SECRET_CHARS = 16
MIN_APP_SECRET_CHARS = 32
MAX_TOLERANCE_S = 86400


def _check_safe(settings: Settings) -> None:
    """Settings under which the service would start but could not be trusted stop it instead: a webhook
    secret anyone could guess (an empty `whsec_` key verified webhooks signed with an empty key), a short
    APP_SECRET (it signs every session token), a tolerance that turns replay protection off or inside out."""
    for secret in settings.webhook_secrets:
        if len(secret.removeprefix("whsec_")) < MIN_WEBHOOK_SECRET_CHARS:
            raise ConfigurationError(
                f"TAVUS_WEBHOOK_SECRET: each secret needs at least {MIN_WEBHOOK_SECRET_CHARS} characters "
                "(after a whsec_ prefix)"
            )
    if any(len(token) < MIN_WEBHOOK_SECRET_CHARS for token in settings.admin_tokens):
        raise ConfigurationError(
            f"ADMIN_TOKEN: each token needs at least {MIN_WEBHOOK_SECRET_CHARS} characters"
        )
    if settings.app_secret and len(settings.app_secret) < MIN_APP_SECRET_CHARS:
        raise ConfigurationError(f"APP_SECRET needs at least {MIN_APP_SECRET_CHARS} characters")
    if not 1 <= settings.webhook_tolerance_s <= MAX_TOLERANCE_S:
        raise ConfigurationError(f"WEBHOOK_TOLERANCE_S must be between 1 and {MAX_TOLERANCE_S} seconds")
    if settings.webhook_events_retention_days < 1:
        raise ConfigurationError(
            "WEBHOOK_EVENTS_RETENTION_DAYS must be at least 1 (it bounds how long a repeat is recognised)"
        )
    if not 180 <= settings.realtime_token_ttl_s <= 3600:
        # The page renews two minutes before the end: shorter would renew constantly.
        raise ConfigurationError("REALTIME_TOKEN_TTL_S must be between 180 and 3600 seconds")
    limits = {
        "RATE_LIMIT_SESSIONS_PER_MIN": settings.rate_limit_sessions_per_min,
        "RATE_LIMIT_BRIDGE_PER_MIN": settings.rate_limit_bridge_per_min,
        "WS_MAX_PER_TOKEN": settings.ws_max_per_token,
        "WS_MAX_PER_CLIENT": settings.ws_max_per_client,
    }
    for name, limit in limits.items():
        if limit < 1:
            raise ConfigurationError(f"{name} must be at least 1")
    if not 0.1 <= settings.http_header_timeout_s <= 300:
        raise ConfigurationError("HTTP_HEADER_TIMEOUT_S must be between 0.1 and 300 seconds")
    lifetimes = {
        "SIGNED_URL_TTL_S": settings.signed_url_ttl_s,
        "SESSION_TOKEN_TTL_S": settings.session_token_ttl_s,
    }
    for name, value in lifetimes.items():
        if value <= 0:
            raise ConfigurationError(f"{name} must be a positive number of seconds")
    for entry in settings.owner_emails:
        local, at, domain = entry.rpartition("@")
        if not at or "." not in domain or " " in entry or "@" in local:
            raise ConfigurationError(f"OWNER_EMAILS: {entry!r} is neither an address nor @domain.com")
    if settings.owner_emails and not settings.supabase_url:
        raise ConfigurationError("OWNER_EMAILS needs SUPABASE_URL (owners sign in with Supabase Auth)")
    if not settings.conversation_url_hosts:
        raise ConfigurationError("CONVERSATION_URL_HOSTS must name at least one host (default *.daily.co)")
    conversation_url_pattern(settings.conversation_url_hosts)  # names an entry that is not a host


def _check_tavus(settings: Settings) -> None:
    if not settings.tavus_api_url.startswith(("https://", "http://")):
        raise ConfigurationError("TAVUS_API_URL must be an http(s) URL")
    if settings.tavus_max_concurrent < 1:
        raise ConfigurationError("TAVUS_MAX_CONCURRENT must be at least 1")
    if not 60 <= settings.tavus_max_call_s <= 14400:
        raise ConfigurationError("TAVUS_MAX_CALL_S must be between 60 and 14400 seconds")
    if not 0.05 <= settings.tavus_sync_poll_s <= 60:
        raise ConfigurationError("TAVUS_SYNC_POLL_S must be between 0.05 and 60 seconds")
    if not 0.05 <= settings.tavus_sync_retry_s <= 600:
        raise ConfigurationError("TAVUS_SYNC_RETRY_S must be between 0.05 and 600 seconds")
    if not 0.05 <= settings.tavus_reap_interval_s <= 3600:
        raise ConfigurationError("TAVUS_REAP_INTERVAL_S must be between 0.05 and 3600 seconds")


def _delivery(value: Any) -> ToolDelivery:
    try:
        return ToolDelivery(str(value).strip().lower())
    except ValueError:
        raise ConfigurationError(f"TAVUS_TOOL_DELIVERY must be app_message or api, not {value!r}") from None


def _check_supabase(settings: Settings) -> None:
    """Supabase needs its URL and service key server-side, and the anon key for the browser; say which
    variable is missing at start rather than failing on the first webhook."""
    server = [
        ("SUPABASE_URL", settings.supabase_url),
        ("SUPABASE_SERVICE_ROLE_KEY", settings.supabase_service_role_key),
    ]
    needs: dict[str, list[tuple[str, str | None]]] = {}
    if settings.storage == "supabase":
        needs["STORAGE=supabase"] = server
    if settings.uses_supabase_realtime:
        browser = [("SUPABASE_ANON_KEY", settings.supabase_anon_key)]
        if settings.realtime_private:
            browser.append(("SUPABASE_JWT_SECRET", settings.supabase_jwt_secret))
        needs["the supabase notifier"] = server + browser
    # Each missing variable is blamed on the first setting that needs it, in the order above.
    missing: dict[str, list[str]] = {}
    seen: set[str] = set()
    for why, variables in needs.items():
        for name, value in variables:
            if not value and name not in seen:
                seen.add(name)
                missing.setdefault(why, []).append(name)
    if missing:
        raise ConfigurationError(
            "; ".join(f"{why} needs {', '.join(sorted(names))}" for why, names in missing.items())
        )
    if settings.supabase_url and not settings.supabase_url.startswith(("https://", "http://")):
        raise ConfigurationError("SUPABASE_URL must be an http(s) URL")
    if settings.supabase_anon_key and settings.supabase_anon_key == settings.supabase_service_role_key:
        # The anon key goes to every browser; the service key bypasses RLS. They must never be one.
        raise ConfigurationError("SUPABASE_ANON_KEY must not be the service role key")


def dev_secret(data_dir: Path, name: str) -> str:
    """A random secret created on first use under DATA_DIR/secrets/<name> (mode 0600) and reused."""
    path = data_dir / "secrets" / name
    if path.is_file():
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _transport(value: Any, name: str) -> Transport:
    try:
        return Transport(str(value).strip().lower())
    except ValueError:
        raise ConfigurationError(f"{name} must be websocket, supabase or both, not {value!r}") from None


def _sessions(value: Any) -> dict[str, Transport]:
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = []
        for item in str(value).split(","):
            if not item.strip():
                continue
            channel, sep, transport = item.partition("=")
            if not sep:
                raise ConfigurationError(f"NOTIFIER_SESSIONS entry {item!r} is not channel=transport")
            pairs.append((channel, transport))
    result: dict[str, Transport] = {}
    for channel, transport in pairs:
        channel = str(channel).strip()
        if not channel.startswith("demo-"):
            raise ConfigurationError(f"NOTIFIER_SESSIONS key {channel!r} must be a demo-<id> channel")
        result[channel] = _transport(transport, f"NOTIFIER_SESSIONS[{channel}]")
    return result


def _list(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(i).strip().rstrip("/") for i in items if str(i).strip())


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be an integer, not {value!r}") from None


def _float(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, not {value!r}") from None


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")
