"""Supabase Auth (GoTrue), the part supabase-js uses for an email + password sign-in, checked by supabase-js
itself (tests/node/supabase_sign_in.mjs):

- `POST /auth/v1/token?grant_type=password` `{"email","password"}` → the session (`access_token`,
  `token_type`, `expires_in`, `expires_at`, `refresh_token`, `user`); wrong credentials: 400
  `{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}`;
- `POST /auth/v1/token?grant_type=refresh_token` `{"refresh_token"}` → a new session;
- `GET /auth/v1/user` (bearer access token) → the user; `POST /auth/v1/logout` → 204;
- `GET /auth/v1/.well-known/jwks.json` → the project's public signing keys (none for HS256 projects).

Access tokens carry what Supabase's do (`aud`, `exp`, `iat`, `iss`, `sub`, `email`, `role`
`authenticated`, `aal`, `amr`, `session_id`, `app_metadata`, `user_metadata`), signed HS256 with the JWT
secret, or ES256 with a key of its own (`kid` in the header, public key in the JWKS) when the fake runs
with asymmetric signing keys. Every request needs the project's `apikey` header, as the gateway wants."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler

if TYPE_CHECKING:
    from fake_supabase.fake import FakeSupabase

ACCESS_TOKEN_TTL_S = 3600


@dataclass
class FakeUser:
    email: str
    password: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": self.email,
            "email_confirmed_at": self.created_at,
            "phone": "",
            "confirmed_at": self.created_at,
            "last_sign_in_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "identities": [],
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "is_anonymous": False,
        }


def _error(status: int, code: str, message: str) -> Response[Any]:
    return Response({"code": status, "error_code": code, "msg": message}, status_code=status)


def make_auth_handlers(fake: FakeSupabase) -> list[HTTPRouteHandler]:
    refresh_tokens: dict[str, str] = {}  # refresh token → user id

    def apikey_refused(request: Request[Any, Any, Any]) -> Response[Any] | None:
        if request.headers.get("apikey") not in (fake.anon_key, fake.service_key):
            return Response({"message": "Invalid API key"}, status_code=401)
        return None

    def session_for(user: FakeUser) -> dict[str, Any]:
        now = int(time.time())
        refresh = secrets.token_urlsafe(24)
        refresh_tokens[refresh] = user.id
        return {
            "access_token": fake.user_access_token(user, ACCESS_TOKEN_TTL_S),
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL_S,
            "expires_at": now + ACCESS_TOKEN_TTL_S,
            "refresh_token": refresh,
            "user": user.to_json(),
        }

    @post("/auth/v1/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        refused = apikey_refused(request)
        if refused:
            return refused
        try:
            body = await request.json()
        except Exception:
            body = None
        if not isinstance(body, dict):
            return _error(400, "validation_failed", "Could not parse request body as JSON")
        grant = request.query_params.get("grant_type")
        if grant == "password":
            user = fake.users.get(str(body.get("email", "")).strip().lower())
            if user is None or not secrets.compare_digest(user.password, str(body.get("password", ""))):
                return _error(400, "invalid_credentials", "Invalid login credentials")
            return Response(session_for(user))
        if grant == "refresh_token":
            user_id = refresh_tokens.pop(str(body.get("refresh_token", "")), None)
            user = next((u for u in fake.users.values() if u.id == user_id), None)
            if user is None:
                return _error(
                    400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
                )
            return Response(session_for(user))
        return _error(400, "unsupported_grant_type", "unsupported_grant_type")

    def user_of(request: Request[Any, Any, Any]) -> FakeUser | None:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        claims = fake.verify_user_token(bearer.strip())
        if claims is None:
            return None
        return next((u for u in fake.users.values() if u.id == claims.get("sub")), None)

    @get("/auth/v1/user")
    async def user(request: Request[Any, Any, Any]) -> Response[Any]:
        refused = apikey_refused(request)
        if refused:
            return refused
        found = user_of(request)
        if found is None:
            return _error(403, "bad_jwt", "invalid JWT: unable to parse or verify signature")
        return Response(found.to_json())

    @post("/auth/v1/logout", status_code=204)
    async def logout(request: Request[Any, Any, Any]) -> Response[None]:
        refused = apikey_refused(request)
        if refused:
            return Response(None, status_code=401)
        found = user_of(request)
        if found is not None:
            for key in [k for k, v in refresh_tokens.items() if v == found.id]:
                del refresh_tokens[key]
        return Response(None, status_code=204)

    @get("/auth/v1/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return {"keys": fake.public_jwks()}

    return [token, user, logout, jwks]


def encode_user_token(
    claims: dict[str, Any], *, secret: str, private_key: Any | None, kid: str | None
) -> str:
    if private_key is None:
        return jwt.encode(claims, secret, algorithm="HS256")
    return jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": kid})
