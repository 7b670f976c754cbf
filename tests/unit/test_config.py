"""Settings: env over TOML over defaults, NOTIFIER_SESSIONS in both forms, dev secrets kept
in DATA_DIR, and clear errors for settings that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_relay.config import load_settings
from demo_relay.domain.errors import ConfigurationError
from demo_relay.domain.models import Transport

SUPABASE = {
    "SUPABASE_URL": "https://x.supabase.co",
    "SUPABASE_SERVICE_ROLE_KEY": "service-key",
    "SUPABASE_ANON_KEY": "anon-key",
}
A = "demo-11111111-1111-1111-1111-111111111111"
B = "demo-22222222-2222-2222-2222-222222222222"


def load(tmp_path: Path, toml: str = "", **env: str) -> object:
    path = tmp_path / "demo-relay.toml"
    path.write_text(toml)
    return load_settings({"DATA_DIR": str(tmp_path / "data"), **env}, toml_path=path)


def test_defaults_and_dev_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings({"DATA_DIR": str(tmp_path)}, toml_path=tmp_path / "none.toml")
    second = load_settings({"DATA_DIR": str(tmp_path)}, toml_path=tmp_path / "none.toml")
    assert first.port == 8000 and first.base_url == "http://127.0.0.1:8000"
    assert first.notifier is Transport.WEBSOCKET and first.storage == "local"
    assert len(first.webhook_secrets) == 1 and len(first.webhook_secrets[0]) >= 32
    assert first.webhook_secrets == second.webhook_secrets and first.app_secret == second.app_secret
    assert (tmp_path / "secrets" / "tavus_webhook_secret").stat().st_mode & 0o077 == 0


def test_env_secret_wins_and_several_secrets_rotate(tmp_path: Path) -> None:
    new, old = "new-secret-0123456789", "old-secret-0123456789"
    settings = load(tmp_path, TAVUS_WEBHOOK_SECRET=f"{new}, {old} ", PORT="9100", HOST="0.0.0.0")
    assert settings.webhook_secrets == (new, old)  # type: ignore[attr-defined]
    assert settings.base_url == "http://127.0.0.1:9100"  # type: ignore[attr-defined]
    assert not (tmp_path / "data" / "secrets" / "tavus_webhook_secret").exists()


def test_a_real_database_requires_a_webhook_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="TAVUS_WEBHOOK_SECRET"):
        load(tmp_path, DATABASE_URL="postgresql://x/y")


def test_notifier_sessions_env_form(tmp_path: Path) -> None:
    settings = load(tmp_path, NOTIFIER="both", NOTIFIER_SESSIONS=f"{A}=supabase, {B}=websocket", **SUPABASE)
    assert settings.notifier is Transport.BOTH  # type: ignore[attr-defined]
    assert settings.notifier_sessions == {A: Transport.SUPABASE, B: Transport.WEBSOCKET}  # type: ignore[attr-defined]


def test_toml_form_and_env_overrides_toml(tmp_path: Path) -> None:
    toml = f'port = 9000\n[notifier]\ndefault = "websocket"\n[notifier.sessions]\n"{A}" = "both"\n'
    settings = load(tmp_path, toml, PORT="9001", **SUPABASE)
    assert settings.port == 9001  # type: ignore[attr-defined]
    assert settings.notifier_sessions == {A: Transport.BOTH}  # type: ignore[attr-defined]


def test_supabase_url_changes_the_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, **SUPABASE)
    assert settings.storage == "supabase" and settings.notifier is Transport.SUPABASE  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"STORAGE": "supabase"}, "SUPABASE_SERVICE_ROLE_KEY, SUPABASE_URL"),
        (
            {"NOTIFIER_SESSIONS": f"{A}=supabase"},
            "SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_URL",
        ),
        ({**SUPABASE, "SUPABASE_ANON_KEY": ""}, "SUPABASE_ANON_KEY"),
        ({**SUPABASE, "REALTIME_PRIVATE": "true"}, "SUPABASE_JWT_SECRET"),
    ],
)
def test_supabase_settings_name_what_is_missing(tmp_path: Path, env: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigurationError, match=f"needs {missing}$"):
        load(tmp_path, **env)


def test_the_anon_key_may_not_be_the_service_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="service role key"):
        load(tmp_path, **{**SUPABASE, "SUPABASE_ANON_KEY": "service-key"})


def test_websocket_only_needs_no_supabase_even_when_storage_is_local(tmp_path: Path) -> None:
    settings = load(tmp_path, NOTIFIER_SESSIONS=f"{A}=websocket")
    assert not settings.uses_supabase_realtime  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "env",
    [
        {"NOTIFIER": "pigeon"},
        {"NOTIFIER_SESSIONS": "demo-1"},
        {"NOTIFIER_SESSIONS": "room-1=websocket"},
        {"PORT": "eighty"},
        {"STORAGE": "s3"},
        {"WEBHOOK_ALLOW_URL_TOKEN": "maybe"},
        {"TITLE_MATCH_THRESHOLD": "0"},
        {"HUB_BACKEND": "carrier-pigeon"},
        {"HUB_BACKEND": "redis"},  # without REDIS_URL
        {"HUB_BACKEND": "redis", "REDIS_URL": "http://localhost:6379"},
        {"TAVUS_TOOL_DELIVERY": "carrier-pigeon"},
        {"TAVUS_MAX_CONCURRENT": "0"},
        {"TAVUS_MAX_CALL_S": "10"},
    ],
)
def test_bad_settings_are_named(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        load(tmp_path, **env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # Supabase Storage has what it needs; only the Realtime notifier lacks the browser's key.
        ({**SUPABASE, "SUPABASE_ANON_KEY": ""}, "^the supabase notifier needs SUPABASE_ANON_KEY$"),
        (
            {"STORAGE": "supabase", "NOTIFIER": "supabase"},
            "^STORAGE=supabase needs SUPABASE_SERVICE_ROLE_KEY, SUPABASE_URL; "
            "the supabase notifier needs SUPABASE_ANON_KEY$",
        ),
    ],
)
def test_a_missing_variable_is_blamed_on_the_setting_that_needs_it(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load(tmp_path, **env)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        # An empty key used to verify webhooks signed with an empty key.
        ({"TAVUS_WEBHOOK_SECRET": "whsec_"}, "TAVUS_WEBHOOK_SECRET"),
        ({"TAVUS_WEBHOOK_SECRET": "short"}, "TAVUS_WEBHOOK_SECRET"),
        ({"TAVUS_WEBHOOK_SECRET": "long-enough-secret-0123, tiny"}, "TAVUS_WEBHOOK_SECRET"),
        ({"APP_SECRET": "abc"}, "APP_SECRET"),
        ({"WEBHOOK_TOLERANCE_S": "-5"}, "WEBHOOK_TOLERANCE_S"),
        ({"WEBHOOK_TOLERANCE_S": "0"}, "WEBHOOK_TOLERANCE_S"),
        ({"WEBHOOK_TOLERANCE_S": "999999999"}, "WEBHOOK_TOLERANCE_S"),
        ({"SIGNED_URL_TTL_S": "0"}, "SIGNED_URL_TTL_S"),
        ({"SESSION_TOKEN_TTL_S": "-1"}, "SESSION_TOKEN_TTL_S"),
        ({"REALTIME_TOKEN_TTL_S": "60"}, "REALTIME_TOKEN_TTL_S"),
        ({"REALTIME_TOKEN_TTL_S": "86400"}, "REALTIME_TOKEN_TTL_S"),
        # The page frames these with camera and microphone allowed: a typo must not widen or empty the list.
        ({"CONVERSATION_URL_HOSTS": "*"}, "CONVERSATION_URL_HOSTS"),
        ({"CONVERSATION_URL_HOSTS": "https://tavus.daily.co"}, "CONVERSATION_URL_HOSTS"),
        ({"CONVERSATION_URL_HOSTS": ","}, "CONVERSATION_URL_HOSTS"),
    ],
)
def test_settings_that_cannot_be_safe_stop_the_start(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        load(tmp_path, **env)


def test_conversation_url_hosts_default_to_daily_and_can_be_listed(tmp_path: Path) -> None:
    assert load(tmp_path).conversation_url_hosts == ("*.daily.co",)  # type: ignore[attr-defined]
    listed = load(tmp_path, CONVERSATION_URL_HOSTS="*.daily.co, Meet.Example.com")
    assert listed.conversation_url_hosts == ("*.daily.co", "meet.example.com")  # type: ignore[attr-defined]


def test_embedded_dev_mode_generates_an_owner_token_and_keeps_it(tmp_path: Path) -> None:
    first = load(tmp_path)
    [token] = first.admin_tokens  # type: ignore[attr-defined]
    assert len(token) >= 32 and load(tmp_path).admin_tokens == (token,)  # type: ignore[attr-defined]
    kept = tmp_path / "data" / "secrets" / "admin_token"
    assert kept.read_text().strip() == token and kept.stat().st_mode & 0o077 == 0


def test_a_real_database_requires_an_owner_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ADMIN_TOKEN is required"):
        load(tmp_path, DATABASE_URL="postgresql://x/y", TAVUS_WEBHOOK_SECRET="a-long-enough-secret-0123")
    rotated = load(
        tmp_path,
        DATABASE_URL="postgresql://x/y",
        TAVUS_WEBHOOK_SECRET="a-long-enough-secret-0123",
        ADMIN_TOKEN="new-owner-token-0123456789, old-owner-token-0123456789",
    )
    assert rotated.admin_tokens == ("new-owner-token-0123456789", "old-owner-token-0123456789")  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="ADMIN_TOKEN: each token"):
        load(tmp_path, ADMIN_TOKEN="short")


@pytest.mark.parametrize("backend", ["memory", "postgres", "redis"])
def test_every_hub_backend_starts_from_the_environment(tmp_path: Path, backend: str) -> None:
    settings = load(tmp_path, HUB_BACKEND=backend, REDIS_URL="redis://127.0.0.1:6379/0")
    assert settings.hub_backend == backend  # type: ignore[attr-defined]
    assert settings.redis_url == "redis://127.0.0.1:6379/0"  # type: ignore[attr-defined]
