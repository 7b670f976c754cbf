"""Scheme 3: `?token=<secret>` on the webhook URL. Tavus `callback_url` lifecycle events are unsigned, so
a secret in the URL is the only way to authenticate them (WEBHOOK_ALLOW_URL_TOKEN)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from demo_relay.adapters.secret_set import SecretSet
from demo_relay.domain.models import InboundRequest
from demo_relay.domain.ports import Verdict


class UrlTokenVerifier:
    name = "url_token"
    signs_message_id = False
    binds_demo = False

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = SecretSet(secrets)

    def verify(self, request: InboundRequest, now: datetime) -> Verdict:
        token = request.query.get("token")
        if token is None:
            return Verdict.ABSENT
        return Verdict.VALID if self._secrets.contains(token) else Verdict.INVALID
