"""The per-demo callback token: `callback_url = …/api/tavus-webhook?demo_id=<id>&callback_token=<token>`,
where token = hex HMAC-SHA256(webhook secret, "demo-relay callback v1:" + demo id). Tavus posts lifecycle
events to that URL unsigned, so the URL itself must authenticate them; a token derived for one demo never
verifies for another, and the secret never leaves the server. Tokens derived from every configured secret
verify, so rotating the secret keeps conversations already started working."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from demo_relay.adapters.signatures.tavus_hmac import hex_hmac_matches
from demo_relay.domain.models import InboundRequest
from demo_relay.domain.ports import Verdict

PARAM = "callback_token"
_CONTEXT = b"demo-relay callback v1:"


def _message(demo_id: str) -> bytes:
    return _CONTEXT + demo_id.encode("utf-8", "surrogatepass")


class HmacCallbackTokens:
    """Implements CallbackTokens: tokens are minted with the first (current) secret."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._key = secrets[0].encode()

    def issue(self, demo_id: str) -> str:
        return hmac.new(self._key, _message(demo_id), hashlib.sha256).hexdigest()


class CallbackTokenVerifier:
    name = "callback_token"
    signs_message_id = False
    binds_demo = True

    def __init__(self, secrets: Sequence[str]) -> None:
        self._keys = [s.encode() for s in secrets]

    def verify(self, request: InboundRequest, now: datetime) -> Verdict:
        presented = request.query.get(PARAM)
        if presented is None:
            return Verdict.ABSENT
        demo_id = request.query.get("demo_id")
        if not demo_id:
            return Verdict.INVALID  # a token speaks for one demo, and none is named
        message = _message(demo_id)
        return (
            Verdict.VALID
            if hex_hmac_matches(self._keys, message, presented.strip().lower())
            else Verdict.INVALID
        )
