"""Scheme 2: Standard Webhooks (https://www.standardwebhooks.com), for relays such as Svix that re-sign.

`webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` with possibly several
space-separated signatures (key rotation); the key is the base64-decoded secret after `whsec_`, else the
secret's UTF-8 bytes. The only scheme with a signed timestamp, hence replay protection by tolerance."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from demo_relay.domain.models import InboundRequest
from demo_relay.domain.ports import Verdict

SECRET_PREFIX = "whsec_"
MAX_TIMESTAMP_DIGITS = 12


def signing_key(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            pass  # not base64 after all: fall back to the raw bytes, as documented
    return secret.encode()


class StandardWebhooksVerifier:
    name = "standard_webhooks"
    signs_message_id = True
    binds_demo = False

    def __init__(self, secrets: Sequence[str], tolerance_s: int) -> None:
        self._keys = [signing_key(s) for s in secrets]
        self._tolerance_s = tolerance_s

    def verify(self, request: InboundRequest, now: datetime) -> Verdict:
        msg_id = request.headers.get("webhook-id")
        timestamp = request.headers.get("webhook-timestamp")
        header = request.headers.get("webhook-signature")
        if msg_id is None and timestamp is None and header is None:
            return Verdict.ABSENT
        if not msg_id or not timestamp or not header:
            return Verdict.INVALID
        sent_at_text = timestamp.strip()
        digits_only = sent_at_text.isascii() and sent_at_text.isdigit()
        if not digits_only or len(sent_at_text) > MAX_TIMESTAMP_DIGITS:
            return Verdict.INVALID  # Unix seconds: digits only, and never more than the year 33658 needs
        sent_at = int(sent_at_text)
        presented = [
            part.split(",", 1)[1].encode("utf-8", "surrogatepass")
            for part in header.split()
            if part.startswith("v1,") and len(part) > 3
        ]
        signed = f"{msg_id}.{sent_at_text}.".encode("utf-8", "surrogatepass") + request.body
        ok = False
        for key in self._keys:
            expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
            for candidate in presented:
                ok |= hmac.compare_digest(expected, candidate)
        if not ok:
            return Verdict.INVALID
        # Checked after the signature so that a forged request can never learn it was only "stale".
        if abs(int(now.timestamp()) - sent_at) > self._tolerance_s:
            return Verdict.STALE
        return Verdict.VALID


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(signing_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
