"""Webhook authentication: any presented scheme that verifies is enough."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from demo_relay.domain.errors import AuthenticationFailed, StaleTimestamp
from demo_relay.domain.models import InboundRequest
from demo_relay.domain.ports import SignatureVerifier, Verdict


def authenticate(
    verifiers: Sequence[SignatureVerifier], request: InboundRequest, now: datetime
) -> SignatureVerifier:
    """Returns the scheme that verified the request.

    Raises StaleTimestamp when the only failure was a well-signed timestamp out of tolerance (so a
    sender can tell a clock problem from a secret problem), else AuthenticationFailed."""
    failures: list[Verdict] = []
    for verifier in verifiers:
        verdict = verifier.verify(request, now)
        if verdict is Verdict.VALID:
            return verifier
        if verdict is not Verdict.ABSENT:
            failures.append(verdict)
    if failures and all(v is Verdict.STALE for v in failures):
        raise StaleTimestamp("the webhook timestamp is outside the allowed tolerance")
    raise AuthenticationFailed("no valid signature, Standard Webhooks signature or token")
