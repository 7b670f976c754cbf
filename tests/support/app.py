"""Builds the real app (real container, real Postgres) for tests, with the sample demo seeded, and signs
requests the way Tavus and Standard Webhooks relays do."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from litestar import Litestar

from demo_relay.adapters.signatures import standard_webhooks, tavus_hmac
from demo_relay.bootstrap import Container, build_container
from demo_relay.config import Settings
from demo_relay.domain.models import Demo
from demo_relay.entrypoints.http.app import create_app

SECRET = "tavus-demo-secret-please-rotate"
APP_SECRET = "test-app-secret-0123456789abcdef0123456789"
CONVERSATION = "c7f3a1b2e9d0"
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"


def make_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        webhook_secrets=(SECRET,),
        app_secret=APP_SECRET,
        admin_tokens=(ADMIN_TOKEN,),
        # Tests open many sessions from one address; the limits themselves are tested with small ones.
        rate_limit_sessions_per_min=100_000,
        rate_limit_bridge_per_min=100_000,
    )
    return replace(settings, **overrides)


class SeededApp:
    """The app plus the demo its startup seeded (filled in by the lifespan)."""

    def __init__(self, settings: Settings, database_url: str, **container_overrides: Any) -> None:
        self.settings = settings
        self.container: Container = build_container(settings, **container_overrides)
        self.demo: Demo | None = None

        async def seed(container: Container) -> None:
            self.demo = await container.seed_sample_demo().execute(force=True)

        self.app: Litestar = create_app(self.container, dsn=database_url, on_ready=seed)

    @property
    def demo_id(self) -> str:
        assert self.demo is not None, "the app has not started yet"
        return self.demo.id


def play_video_body(title: str, call_id: str, conversation: str = CONVERSATION) -> bytes:
    """A Tavus `conversation.tool_call` webhook body asking to play `title` (tool_call_id `call_id`)."""
    return json.dumps(
        {
            "event_type": "conversation.tool_call",
            "conversation_id": conversation,
            "properties": {
                "name": "play_video",
                "tool_call_id": call_id,
                "arguments": json.dumps({"video_title": title}),
            },
        }
    ).encode()


def tavus_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "x-tavus-signature": tavus_hmac.sign(secret, body)}


def standard_webhook_headers(
    body: bytes, msg_id: str, secret: str = SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": standard_webhooks.sign(secret, msg_id, ts, body),
    }


def owner_headers(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
