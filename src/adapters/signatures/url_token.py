"""Scheme 3: `?token=<secret>` on the webhook URL. Tavus `callback_url` lifecycle events are unsigned, so
a secret in the URL is the only way to authenticate them (WEBHOOK_ALLOW_URL_TOKEN)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from demo_relay.domain.models import InboundRequest
from demo_relay.domain.ports import Verdict


class UrlTokenVerifier:
    name = "url_token"
    signs_message_id = False

    def __init__(self, secrets: Sequence[str]) -> None:
        # Compare digests, so the comparison time depends on neither the secret's nor the token's length.
        self._digests = [hashlib.sha256(s.encode()).digest() for s in secrets]

    def verify(self, request: InboundRequest, now: datetime) -> Verdict:
        token = request.query.get("token")
        if token is None:
            return Verdict.ABSENT
        presented = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        ok = False
        for digest in self._digests:
            ok |= hmac.compare_digest(digest, presented)
        return Verdict.VALID if ok else Verdict.INVALID
