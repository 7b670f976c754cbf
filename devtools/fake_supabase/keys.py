"""API keys and access tokens shaped like a Supabase project's: HS256 JWTs signed with the project's secret.

Supabase's legacy `anon` and `service_role` keys are JWTs (`iss`, `role`, `iat`, `exp`) signed with the
project JWT secret; Realtime and Storage verify every key and access token against that secret."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

import jwt

# The Supabase CLI's default secret for local stacks (public knowledge, never a real project's).
DEFAULT_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
_TEN_YEARS_S = 10 * 365 * 24 * 3600

TokenProblem = Literal["malformed", "signature", "expired", "missing_claims"]


class TokenError(Exception):
    """A token Realtime or Storage would refuse; `problem` says why, `seconds_ago` how long ago it expired."""

    def __init__(self, problem: TokenProblem, detail: str, seconds_ago: int = 0) -> None:
        super().__init__(detail)
        self.problem: TokenProblem = problem
        self.detail = detail
        self.seconds_ago = seconds_ago


def make_api_key(
    jwt_secret: str, role: Literal["anon", "service_role"], *, issuer: str = "supabase-demo"
) -> str:
    """A long-lived project key like the ones `supabase start` prints."""
    now = int(time.time())
    claims = {"iss": issuer, "role": role, "iat": now, "exp": now + _TEN_YEARS_S}
    return jwt.encode(claims, jwt_secret, algorithm="HS256")


def make_access_token(
    jwt_secret: str,
    *,
    role: str = "authenticated",
    sub: str = "00000000-0000-4000-8000-000000000001",
    expires_in_s: int = 3600,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """A user access token as Supabase Auth issues it (`aud` authenticated, `role`, `sub`, `exp`)."""
    now = int(time.time())
    body: dict[str, Any] = {
        "aud": "authenticated",
        "role": role,
        "sub": sub,
        "iat": now,
        "exp": now + expires_in_s,
        **(claims or {}),
    }
    return jwt.encode(body, jwt_secret, algorithm="HS256")


def verify_token(token: str, jwt_secret: str, *, require_role_and_exp: bool) -> dict[str, Any]:
    """The claims of `token` if it is an HS256 JWT signed with `jwt_secret` and not expired."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenError("malformed", "The token provided is not a valid JWT") from error
    if header.get("alg") != "HS256":
        raise TokenError("signature", "Failed to validate JWT signature")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, jwt_secret, algorithms=["HS256"], options={"verify_exp": False, "verify_aud": False}
        )
    except jwt.InvalidSignatureError as error:
        raise TokenError("signature", "Failed to validate JWT signature") from error
    except jwt.PyJWTError as error:
        raise TokenError("malformed", "The token provided is not a valid JWT") from error
    exp = claims.get("exp")
    if require_role_and_exp and (not isinstance(exp, int) or not isinstance(claims.get("role"), str)):
        raise TokenError("missing_claims", "Fields `role` and `exp` are required in JWT")
    if isinstance(exp, int) and exp <= int(time.time()):
        ago = int(time.time()) - exp
        raise TokenError("expired", f"Token has expired {ago} seconds ago", seconds_ago=ago)
    return claims
