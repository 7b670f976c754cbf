"""Channel tokens (`/ws/{channel}?token=…`) as HS256 JWTs signed with PyJWT.

A token names one channel (`sub`), is reusable until it expires (so a page can reconnect), and is checked
against the injected Clock rather than the wall clock, so expiry is testable and consistent with the rest
of the service."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any, TypeGuard

import jwt

from demo_relay.domain.errors import ConfigurationError, InvalidToken
from demo_relay.domain.ports import Clock

AUDIENCE = "demo-relay:channel"
ISSUER = "demo-relay"
ALGORITHM = "HS256"
# Real tokens are ~250 characters; refusing anything far larger keeps a hostile query string from costing
# base64/JSON work.
MAX_TOKEN_CHARS = 2048
_REQUIRED_CLAIMS = ["sub", "iat", "exp", "aud", "iss"]
# APP_SECRET also signs local media URLs: deriving a purpose-bound key means a signature made for one use
# can never be replayed as the other, and gives HS256 a full 32-byte key whatever the secret's length
# (PyJWT warns on shorter HMAC keys).
_KEY_CONTEXT = b"demo-relay/channel-token/v1"


class JwtChannelTokens:
    """Implements the ChannelTokens port."""

    def __init__(self, secret: str, ttl_s: int, clock: Clock, *, leeway_s: float = 5.0) -> None:
        if not secret:
            raise ConfigurationError("channel tokens need a non-empty secret (APP_SECRET)")
        if ttl_s <= 0:
            raise ConfigurationError("the channel token lifetime must be positive")
        self._key = hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
        self._ttl_s = int(ttl_s)
        self._clock = clock
        self._leeway_s = leeway_s

    def issue(self, channel: str) -> tuple[str, datetime]:
        """A token for `channel` and the moment it expires."""
        # Whole seconds: that is what `iat`/`exp` hold, so the returned expiry is exactly the token's.
        issued_at = int(self._clock.now().timestamp())
        expires_at = issued_at + self._ttl_s
        claims = {"sub": channel, "iat": issued_at, "exp": expires_at, "aud": AUDIENCE, "iss": ISSUER}
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        return token, datetime.fromtimestamp(expires_at, UTC)

    def channel_of(self, token: str) -> str:
        """The channel a valid token is bound to; InvalidToken for anything else (expired, not yet valid,
        bad signature, other audience/issuer, another algorithm including `none`, malformed)."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("missing or oversized token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                # Pinned, never taken from the token header: rules out `alg: none` and algorithm confusion.
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "strict_aud": True,
                    # PyJWT compares times with the wall clock; we check them below with our Clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken("invalid token") from exc
        return self._check_times(claims)

    def _check_times(self, claims: dict[str, Any]) -> str:
        issued_at, expires_at, channel = claims.get("iat"), claims.get("exp"), claims.get("sub")
        if not (_is_int(issued_at) and _is_int(expires_at)):
            raise InvalidToken("token times must be integers")
        if not isinstance(channel, str) or not channel:
            raise InvalidToken("token names no channel")
        now = self._clock.now().timestamp()
        if expires_at <= now - self._leeway_s:
            raise InvalidToken("token expired")
        if issued_at > now + self._leeway_s:
            raise InvalidToken("token not yet valid")
        return channel


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass; tokens we sign never hold one, so a bool here is not ours.
    return isinstance(value, int) and not isinstance(value, bool)
