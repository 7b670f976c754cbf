"""The fake's state and its Python control surface: project keys, buckets and objects, the Realtime hub,
counters and faults. One `FakeSupabase` per app; tests hold it to seed data, read counters, inject faults."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from fake_supabase.auth import FakeUser, encode_user_token
from fake_supabase.faults import Fault, FaultBook, Service
from fake_supabase.hub import RealtimeHub
from fake_supabase.keys import DEFAULT_JWT_SECRET, make_access_token, make_api_key
from fake_supabase.stats import FakeStats

# Stands in for an RLS policy on realtime.messages: may these claims use this sub-topic?
# (service_role bypasses it, as it bypasses RLS.)
Authorize = Callable[[str, Mapping[str, Any]], bool]


@dataclass(frozen=True)
class PrivatePolicy:
    """A ready-made `Authorize`, chosen on the command line with `--private-policy`:

    - `authenticated` (the default): any user JWT (role `authenticated`) may use any private topic;
    - `claim:NAME`: an authenticated user may use only the private topic its JWT's claim NAME names (the topic
      without `realtime:`). `claim:demo_relay_topic` is demo-relay's own policy
      (migrations/*_realtime_conversation_topics.sql: a viewer receives the `demo-<id>:<conversation>` topic
      its Realtime token names, an owner the `demo-<id>` one, and nothing else)."""

    claim: str | None = None

    def __call__(self, topic: str, claims: Mapping[str, Any]) -> bool:
        if claims.get("role") != "authenticated":
            return False
        return self.claim is None or bool(topic and claims.get(self.claim) == topic)

    def __str__(self) -> str:
        return "authenticated" if self.claim is None else f"claim:{self.claim}"

    @classmethod
    def parse(cls, text: str) -> PrivatePolicy:
        """`authenticated` or `claim:NAME` (the CLI's --private-policy syntax)."""
        kind, colon, claim = text.strip().partition(":")
        if kind == "authenticated" and not colon:
            return cls()
        if kind == "claim" and claim.strip():
            return cls(claim=claim.strip())
        raise ValueError(f"private policy {text!r}: expected 'authenticated' or 'claim:NAME'")


_authenticated_only = PrivatePolicy()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BucketSpec:
    id: str
    public: bool = False
    file_size_limit: int | None = None
    allowed_mime_types: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, text: str) -> BucketSpec:
        """`name` or `name:public` (the CLI's --bucket syntax)."""
        name, _, flag = text.partition(":")
        if flag not in ("", "public", "private"):
            raise ValueError(f"bucket spec {text!r}: expected NAME or NAME:public")
        return cls(id=name, public=flag == "public")


@dataclass
class Bucket:
    id: str
    name: str
    public: bool
    file_size_limit: int | None = None
    allowed_mime_types: list[str] | None = None
    owner: str = ""
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "public": self.public,
            "file_size_limit": self.file_size_limit,
            "allowed_mime_types": self.allowed_mime_types,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": self.updated_at.isoformat().replace("+00:00", "Z"),
        }


@dataclass
class StoredObject:
    bucket_id: str
    name: str
    data: bytes
    content_type: str
    cache_control: str = "max-age=3600"
    user_metadata: dict[str, Any] | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)

    @property
    def key(self) -> str:
        return f"{self.bucket_id}/{self.name}"

    @property
    def etag(self) -> str:
        return f'"{hashlib.md5(self.data, usedforsecurity=False).hexdigest()}"'


class FakeSupabase:
    """State of one fake project. Build it with `create_fake_supabase`, which also makes the ASGI app."""

    def __init__(
        self,
        *,
        service_key: str | None = None,
        anon_key: str | None = None,
        jwt_secret: str | None = None,
        buckets: Iterable[BucketSpec | str] = (),
        authorize: Authorize | None = None,
        idle_timeout_s: float = 60.0,
        asymmetric_keys: bool = False,
    ) -> None:
        self.jwt_secret = jwt_secret or DEFAULT_JWT_SECRET
        # Supabase's newer projects sign user tokens with an asymmetric key (ES256), published in the JWKS.
        self.signing_key = ec.generate_private_key(ec.SECP256R1()) if asymmetric_keys else None
        self.signing_kid = uuid.uuid4().hex if asymmetric_keys else None
        self.users: dict[str, FakeUser] = {}
        self.anon_key = anon_key or make_api_key(self.jwt_secret, "anon")
        self.service_key = service_key or make_api_key(self.jwt_secret, "service_role")
        self.authorize: Authorize = authorize or _authenticated_only
        self.idle_timeout_s = idle_timeout_s
        self._initial_buckets = tuple(
            b if isinstance(b, BucketSpec) else BucketSpec.parse(b) for b in buckets
        )
        self.buckets: dict[str, Bucket] = {}
        self.objects: dict[str, StoredObject] = {}
        self.hub = RealtimeHub()
        self.faults = FaultBook()
        self.stats = FakeStats()
        self._seed_buckets()

    def _seed_buckets(self) -> None:
        for spec in self._initial_buckets:
            self.create_bucket(
                spec.id,
                public=spec.public,
                file_size_limit=spec.file_size_limit,
                allowed_mime_types=spec.allowed_mime_types,
            )

    # --- data -------------------------------------------------------------------------------------------
    def create_bucket(
        self,
        bucket_id: str,
        *,
        public: bool = False,
        name: str | None = None,
        file_size_limit: int | None = None,
        allowed_mime_types: Sequence[str] | None = None,
    ) -> Bucket:
        bucket = Bucket(
            id=bucket_id,
            name=name or bucket_id,
            public=public,
            file_size_limit=file_size_limit,
            allowed_mime_types=list(allowed_mime_types) if allowed_mime_types is not None else None,
        )
        self.buckets[bucket_id] = bucket
        return bucket

    def put_object(
        self, bucket_id: str, name: str, data: bytes, content_type: str = "video/mp4"
    ) -> StoredObject:
        """Seed an object directly (no HTTP, not counted as an upload)."""
        if bucket_id not in self.buckets:
            self.create_bucket(bucket_id)
        obj = StoredObject(bucket_id=bucket_id, name=name, data=data, content_type=content_type)
        self.objects[obj.key] = obj
        return obj

    def get_object(self, bucket_id: str, name: str) -> StoredObject | None:
        return self.objects.get(f"{bucket_id}/{name}")

    # --- auth helpers -----------------------------------------------------------------------------------
    def access_token(self, *, role: str = "authenticated", expires_in_s: int = 3600, **claims: Any) -> str:
        """A user JWT signed with this project's secret (for `supabase.realtime.setAuth(...)`)."""
        return make_access_token(self.jwt_secret, role=role, expires_in_s=expires_in_s, claims=claims)

    def add_user(self, email: str, password: str) -> FakeUser:
        """A confirmed email + password user (Auth's admin createUser with email_confirm)."""
        user = FakeUser(email=email.strip().lower(), password=password)
        self.users[user.email] = user
        return user

    def user_access_token(self, user: FakeUser, expires_in_s: int = 3600, **extra: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "fake-supabase/auth/v1",
            "aud": "authenticated",
            "sub": user.id,
            "email": user.email,
            "phone": "",
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": str(uuid.uuid4()),
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "is_anonymous": False,
            "iat": now,
            "exp": now + expires_in_s,
            **extra,
        }
        return encode_user_token(
            claims, secret=self.jwt_secret, private_key=self.signing_key, kid=self.signing_kid
        )

    def verify_user_token(self, token: str) -> dict[str, Any] | None:
        try:
            if self.signing_key is not None:
                key: Any = self.signing_key.public_key()
                return dict(jwt.decode(token, key, algorithms=["ES256"], audience="authenticated"))
            return dict(jwt.decode(token, self.jwt_secret, algorithms=["HS256"], audience="authenticated"))
        except jwt.PyJWTError:
            return None

    def public_jwks(self) -> list[dict[str, Any]]:
        if self.signing_key is None:
            return []
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.signing_key.public_key()))
        return [{**jwk, "kid": self.signing_kid, "alg": "ES256", "use": "sig", "key_ops": ["verify"]}]

    def may_use_private(self, sub_topic: str, claims: Mapping[str, Any]) -> bool:
        return claims.get("role") == "service_role" or self.authorize(sub_topic, claims)

    # --- faults and counters ----------------------------------------------------------------------------
    def inject(
        self,
        service: Service,
        *,
        status: int | None = None,
        delay_s: float = 0.0,
        down: bool = False,
        times: int | None = 1,
        match: str | None = None,
        method: str | None = None,
    ) -> Fault:
        """Make `service` fail its next `times` requests (None: until `clear_faults`)."""
        return self.faults.add(
            Fault(
                service=service,
                status=status,
                delay_s=delay_s,
                down=down,
                times=times,
                match=match,
                method=method,
            )
        )

    def clear_faults(self, service: Service | None = None) -> None:
        self.faults.clear(service)

    def reset(self, *, data: bool = False) -> None:
        """Forget counters and faults; with `data`, also objects and buckets (back to the initial buckets)."""
        self.stats = FakeStats()
        self.faults.clear()
        if data:
            self.objects.clear()
            self.buckets.clear()
            self._seed_buckets()

    def stats_json(self) -> dict[str, Any]:
        return {**self.stats.to_json(), "ws_open": len(self.hub.connections)}

    def sign_count(self, bucket_id: str, name: str) -> int:
        return self.stats.sign_calls[f"{bucket_id}/{name}"]
