"""Who owns the demos (DESIGN §11): the holders of an ADMIN_TOKEN and, where Supabase Auth is configured,
the project's users whose email is in OWNER_EMAILS.

A Supabase access token is verified as Supabase Auth signs it: HS256 with the project's JWT secret
(SUPABASE_JWT_SECRET, the legacy secret), or an asymmetric signing key (ES256, RS256) found by its `kid` in
the project's JWKS (`{SUPABASE_URL}/auth/v1/.well-known/jwks.json`, fetched with httpx, cached, refreshed
at most every 30 s when a token names a key we do not know). It must be unexpired, for audience
`authenticated`, of role `authenticated`, with an email. The JWKS is public: its client is our own, made on
first use (inside the app's event loop) and closed by `aclose`. A token that proves nobody: Unauthorized
(401). A user it proves who is not an owner: Forbidden (403)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx
import jwt

from demo_relay.adapters.tokens.owner_tokens import StaticOwnerTokens
from demo_relay.domain.errors import ConfigurationError, Forbidden, Unauthorized

log = logging.getLogger(__name__)

JWKS_PATH = "/auth/v1/.well-known/jwks.json"
ASYMMETRIC = ("ES256", "RS256", "EdDSA")
JWKS_TTL_S = 600.0
JWKS_MIN_REFRESH_S = 30.0
LEEWAY_S = 10


def allowed_owner(email: str, allowed: Sequence[str]) -> bool:
    """`allowed` holds exact addresses and `@domain.com` entries (lower case)."""
    email = email.strip().lower()
    if "@" not in email:
        return False
    domain = "@" + email.rsplit("@", 1)[1]
    return any(entry == email or (entry.startswith("@") and entry == domain) for entry in allowed)


class SupabaseOwners:
    """Supabase Auth users of OWNER_EMAILS."""

    def __init__(
        self,
        owner_emails: Sequence[str],
        *,
        jwt_secret: str | None,
        supabase_url: str | None,
    ) -> None:
        if not owner_emails:
            raise ConfigurationError("Supabase owners need OWNER_EMAILS")
        self._allowed = tuple(e.lower() for e in owner_emails)
        self._secret = jwt_secret
        self._jwks_url = supabase_url.rstrip("/") + JWKS_PATH if supabase_url else None
        self._http: httpx.AsyncClient | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def identify(self, token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the token is neither an owner token nor a Supabase access token") from None
        key = await self._key_for(header)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[str(header.get("alg"))],
                audience="authenticated",
                leeway=LEEWAY_S,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the Supabase session has expired: sign in again") from None
        except jwt.PyJWTError:
            raise Unauthorized("the Supabase access token is not valid") from None
        email = claims.get("email")
        if claims.get("role") != "authenticated" or not isinstance(email, str) or not email:
            raise Unauthorized("the token is not a signed-in Supabase user's")
        if not allowed_owner(email, self._allowed):
            raise Forbidden(f"{email} is signed in but is not one of this deployment's owners (OWNER_EMAILS)")
        return email.lower()

    async def _key_for(self, header: dict[str, Any]) -> Any:
        alg = header.get("alg")
        if alg == "HS256":
            if not self._secret:
                raise Unauthorized("HS256 Supabase tokens need SUPABASE_JWT_SECRET here")
            return self._secret
        if alg not in ASYMMETRIC or not isinstance(header.get("kid"), str):
            raise Unauthorized("the Supabase access token is not signed with a key we can check")
        kid = header["kid"]
        if kid not in self._keys or time.monotonic() - self._fetched_at > JWKS_TTL_S:
            await self._refresh()
        found = self._keys.get(kid)
        if found is None:
            raise Unauthorized("the Supabase access token names an unknown signing key")
        return found.key

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < JWKS_MIN_REFRESH_S or not self._jwks_url:
                return
            self._fetched_at = time.monotonic()
            if self._http is None:
                self._http = httpx.AsyncClient(timeout=httpx.Timeout(3.0))
            try:
                response = await self._http.get(self._jwks_url)
                response.raise_for_status()
                keys = {}
                for entry in response.json().get("keys", []):
                    if isinstance(entry, dict) and isinstance(entry.get("kid"), str):
                        keys[entry["kid"]] = jwt.PyJWK(entry)
                self._keys = keys
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                log.warning("could not fetch the Supabase JWKS (%s): %s", self._jwks_url, type(exc).__name__)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class OwnerAuthority:
    """Implements the Owners port: the admin tokens first (constant time), then Supabase Auth if set up."""

    ADMIN = "admin token"

    def __init__(self, tokens: StaticOwnerTokens, supabase: SupabaseOwners | None = None) -> None:
        self._tokens = tokens
        self._supabase = supabase

    async def identify(self, bearer: str) -> str:
        if self._tokens.is_owner(bearer):
            return self.ADMIN
        if self._supabase is not None and bearer.count(".") == 2:
            return await self._supabase.identify(bearer)
        raise Unauthorized("the owner token is not valid")

    async def aclose(self) -> None:
        if self._supabase is not None:
            await self._supabase.aclose()
