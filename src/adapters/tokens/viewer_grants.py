"""Viewer grants: what a viewer link carries. Signed claims naming one demo (`sub`) and one conversation
(`conv`), expiring; a different key and audience from channel tokens, so neither passes for the other."""

from __future__ import annotations

from datetime import datetime

from demo_relay.adapters.tokens.signed_claims import SignedClaims
from demo_relay.domain.errors import InvalidToken
from demo_relay.domain.models import ViewerGrant
from demo_relay.domain.ports import Clock

KEY_CONTEXT = b"demo-relay/viewer-grant/v1"
AUDIENCE = "demo-relay:viewer-grant"


class JwtViewerGrants:
    """Implements the ViewerGrants port."""

    def __init__(self, secret: str, clock: Clock) -> None:
        self._claims = SignedClaims(secret, KEY_CONTEXT, AUDIENCE, clock)

    def issue(self, demo_id: str, conversation_id: str, ttl_s: int) -> tuple[str, datetime]:
        return self._claims.sign(demo_id, ttl_s, {"conv": conversation_id})

    def verify(self, grant: str) -> ViewerGrant:
        claims = self._claims.verify(grant)
        conversation_id = claims.get("conv")
        if not isinstance(conversation_id, str) or not conversation_id:
            raise InvalidToken("the grant names no conversation")
        return ViewerGrant(demo_id=str(claims["sub"]), conversation_id=conversation_id)
