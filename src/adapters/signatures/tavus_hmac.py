"""Scheme 1: `X-Tavus-Signature: <hex HMAC-SHA256(secret, raw body)>`, what Tavus sends for tools
registered with `delivery.api` and `auth.type: "hmac"`. No timestamp is signed, so replays are stopped by
the delivery ledger, not here."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from demo_relay.domain.models import InboundRequest
from demo_relay.domain.ports import Verdict

HEADER = "x-tavus-signature"


class TavusHmacVerifier:
    name = "x_tavus_signature"
    signs_message_id = False
    binds_demo = False

    def __init__(self, secrets: Sequence[str]) -> None:
        # Secrets are used exactly as configured (UTF-8 bytes); several during rotation.
        self._keys = [s.encode() for s in secrets]

    def verify(self, request: InboundRequest, now: datetime) -> Verdict:
        presented = request.headers.get(HEADER)
        if presented is None:
            return Verdict.ABSENT
        presented_hex = presented.strip().lower().removeprefix("sha256=")
        return Verdict.VALID if hex_hmac_matches(self._keys, request.body, presented_hex) else Verdict.INVALID


def hex_hmac_matches(keys: Sequence[bytes], message: bytes, presented_hex: str) -> bool:
    """Whether `presented_hex` is the hex HMAC-SHA256 of `message` under any of `keys`: every key is
    evaluated (no early exit), each comparison in constant time."""
    # Bytes, not str: compare_digest refuses str with non-ASCII characters, and a header may hold any.
    presented = presented_hex.encode("utf-8", "surrogatepass")
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(hmac.new(key, message, hashlib.sha256).hexdigest().encode(), presented)
    return ok


def sign(secret: str, body: bytes) -> str:
    """The header value Tavus would send for `body` (used by the CLI and tests)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
