"""Supabase Realtime tokens for private channels (REALTIME_PRIVATE=true).

A page has no Supabase user of its own, so the sessions endpoint hands it a short-lived JWT signed with
the project's JWT secret (HS256, as Supabase's legacy JWT secret and imported HS256 keys verify), which the
page passes to `supabase.realtime.setAuth()`. Realtime accepts it as role `authenticated`; the RLS policy of
migrations/*_realtime_conversation_topics.sql then lets it join exactly the topic its `demo_relay_topic`
claim names (a viewer: its conversation's; an owner: the demo's).

`sub` must be a UUID: Supabase's `auth.uid()` casts it to one, and a policy that calls it would fail on
anything else. It is derived from who holds the token (the conversation, or the demo's owners), so one
viewer keeps one identity across reloads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import jwt

from demo_relay.domain.errors import ConfigurationError
from demo_relay.domain.ports import Clock

ALGORITHM = "HS256"
ROLE = "authenticated"
TOPIC_CLAIM = "demo_relay_topic"
_SUBJECT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://demo-relay/realtime-viewer")


class SupabaseRealtimeTokens:
    def __init__(self, jwt_secret: str, ttl_s: int, clock: Clock) -> None:
        if not jwt_secret:
            raise ConfigurationError("private Realtime channels need SUPABASE_JWT_SECRET")
        if ttl_s <= 0:
            raise ConfigurationError("the Realtime token lifetime must be positive")
        self._secret = jwt_secret
        self._ttl_s = int(ttl_s)
        self._clock = clock

    def issue(self, topic: str, holder: str) -> tuple[str, datetime]:
        issued_at = int(self._clock.now().timestamp())
        expires_at = issued_at + self._ttl_s
        claims = {
            "role": ROLE,
            "aud": ROLE,
            "sub": str(uuid.uuid5(_SUBJECT_NAMESPACE, holder)),
            "iat": issued_at,
            "exp": expires_at,
            TOPIC_CLAIM: topic,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), datetime.fromtimestamp(expires_at, UTC)
