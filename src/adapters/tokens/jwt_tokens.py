"""Channel tokens (`/ws/{channel}?token=…`): signed claims naming one channel (`sub`), reusable until
they expire so a page can reconnect."""

from __future__ import annotations

from datetime import datetime

from demo_relay.adapters.tokens.signed_claims import SignedClaims
from demo_relay.domain.errors import ConfigurationError, InvalidToken
from demo_relay.domain.ports import Clock

# Unchanged since the first release: tokens pages hold stay valid across upgrades.
KEY_CONTEXT = b"demo-relay/channel-token/v1"
AUDIENCE = "demo-relay:channel"


class JwtChannelTokens:
    """Implements the ChannelTokens port."""

    def __init__(self, secret: str, ttl_s: int, clock: Clock, *, leeway_s: float = 5.0) -> None:
        if ttl_s <= 0:
            raise ConfigurationError("the channel token lifetime must be positive")
        self._claims = SignedClaims(secret, KEY_CONTEXT, AUDIENCE, clock, leeway_s=leeway_s)
        self._ttl_s = int(ttl_s)

    def issue(self, channel: str, conversation_id: str | None = None) -> tuple[str, datetime]:
        """A token for `channel` (and one conversation on it) and the moment it expires."""
        return self._claims.sign(channel, self._ttl_s, {"conv": conversation_id} if conversation_id else None)

    def channel_of(self, token: str) -> str:
        """The channel a valid token is bound to; InvalidToken for anything else."""
        return str(self._claims.verify(token)["sub"])

    def conversation_of(self, token: str) -> str | None:
        conversation_id = self._claims.verify(token).get("conv")
        if conversation_id is not None and (not isinstance(conversation_id, str) or not conversation_id):
            raise InvalidToken("the token names no valid conversation")
        return conversation_id
