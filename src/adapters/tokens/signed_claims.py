"""Short signed claim sets (HS256 JWTs, PyJWT) for one purpose each. The signing key is derived from
APP_SECRET and the purpose, so a token made for one purpose (a channel token, a viewer grant) can never
be accepted as another, and HS256 gets a full 32-byte key whatever the secret's length. Times are checked
against the injected Clock, not the wall clock, so expiry is testable and consistent."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeGuard

import jwt

from demo_relay.domain.errors import ConfigurationError, InvalidToken
from demo_relay.domain.ports import Clock

ISSUER = "demo-relay"
ALGORITHM = "HS256"
# Real tokens are a few hundred characters; refusing anything far larger keeps a hostile query string from
# costing base64/JSON work.
MAX_TOKEN_CHARS = 4096
_REQUIRED = ["sub", "iat", "exp", "aud", "iss"]


class SignedClaims:
    def __init__(
        self, secret: str, key_context: bytes, audience: str, clock: Clock, *, leeway_s: float = 5.0
    ) -> None:
        """`key_context` and `audience` name the purpose; both must differ between purposes."""
        if not secret:
            raise ConfigurationError("signed tokens need a non-empty secret (APP_SECRET)")
        self._key = hmac.new(secret.encode(), key_context, hashlib.sha256).digest()
        self._audience = audience
        self._clock = clock
        self._leeway_s = leeway_s

    def sign(self, subject: str, ttl_s: int, extra: Mapping[str, Any] | None = None) -> tuple[str, datetime]:
        """A token for `subject` (plus `extra` claims) and the moment it expires."""
        # Whole seconds: that is what `iat`/`exp` hold, so the returned expiry is exactly the token's.
        issued_at = int(self._clock.now().timestamp())
        expires_at = issued_at + int(ttl_s)
        claims = {
            **(extra or {}),
            "sub": subject,
            "iat": issued_at,
            "exp": expires_at,
            "aud": self._audience,
            "iss": ISSUER,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), datetime.fromtimestamp(expires_at, UTC)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token of this purpose; InvalidToken for anything else (expired, not yet
        valid, bad signature, another purpose or issuer, another algorithm including `none`, malformed)."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("missing or oversized token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                # Pinned, never taken from the token header: rules out `alg: none` and algorithm confusion.
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=ISSUER,
                options={
                    "require": _REQUIRED,
                    "strict_aud": True,
                    # PyJWT compares times with the wall clock; they are checked below with our Clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken("invalid token") from exc
        issued_at, expires_at, subject = claims.get("iat"), claims.get("exp"), claims.get("sub")
        if not (_is_int(issued_at) and _is_int(expires_at)):
            raise InvalidToken("token times must be integers")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("token names no subject")
        now = self._clock.now().timestamp()
        if expires_at <= now - self._leeway_s:
            raise InvalidToken("token expired")
        if issued_at > now + self._leeway_s:
            raise InvalidToken("token not yet valid")
        return claims


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass; tokens we sign never hold one, so a bool here is not ours.
    return isinstance(value, int) and not isinstance(value, bool)
