"""Webhook signature schemes (Tavus HMAC, Standard Webhooks, URL token), each a `SignatureVerifier`."""

from collections.abc import Sequence

from demo_relay.adapters.signatures.callback_token import CallbackTokenVerifier, HmacCallbackTokens
from demo_relay.adapters.signatures.standard_webhooks import StandardWebhooksVerifier
from demo_relay.adapters.signatures.tavus_hmac import TavusHmacVerifier
from demo_relay.adapters.signatures.url_token import UrlTokenVerifier
from demo_relay.domain.ports import SignatureVerifier


def verifiers_for(secrets: Sequence[str], tolerance_s: int, allow_url_token: bool) -> list[SignatureVerifier]:
    verifiers: list[SignatureVerifier] = [
        TavusHmacVerifier(secrets),
        StandardWebhooksVerifier(secrets, tolerance_s),
        # Per-demo callback URLs of the conversations we start: always on, they carry no secret.
        CallbackTokenVerifier(secrets),
    ]
    if allow_url_token:
        verifiers.append(UrlTokenVerifier(secrets))
    return verifiers


__all__ = [
    "CallbackTokenVerifier",
    "HmacCallbackTokens",
    "StandardWebhooksVerifier",
    "TavusHmacVerifier",
    "UrlTokenVerifier",
    "verifiers_for",
]
