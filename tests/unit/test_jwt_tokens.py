"""JwtChannelTokens: a token issued for a channel is accepted for exactly that channel until it
expires by the injected clock (with a few seconds' leeway), and every other token — expired, not yet valid,
signed with another key or algorithm (`none` included), for another audience/issuer, missing claims,
malformed — raises the domain's InvalidToken."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from demo_relay.adapters.tokens.jwt_tokens import AUDIENCE, JwtChannelTokens
from demo_relay.adapters.tokens.signed_claims import ISSUER
from demo_relay.domain.errors import ConfigurationError, InvalidToken
from tests.support.fakes import FakeClock

SECRET = "test-app-secret-0123456789-abcdefghijklmnop"
CHANNEL = "demo-3f0c2a8e-8d1b-4a57-9d5e-0b6f1c2d3e4f"
T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def tokens(clock: FakeClock) -> JwtChannelTokens:
    return JwtChannelTokens(SECRET, ttl_s=3600, clock=clock)


def forge(tokens: JwtChannelTokens, algorithm: str = "HS256", **overrides: Any) -> str:
    """A token signed with the issuer's own key (the only way to test claim checks past the signature)."""
    issued_at = int(T0.timestamp())
    claims: dict[str, Any] = {
        "sub": CHANNEL,
        "iat": issued_at,
        "exp": issued_at + 3600,
        "aud": AUDIENCE,
        "iss": ISSUER,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    with warnings.catch_warnings():
        # HS384/HS512 would like a longer key than our 32 bytes; irrelevant to a token meant to be refused.
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return jwt.encode(claims, tokens._claims._key, algorithm=algorithm)


def test_issued_token_names_its_channel_and_expiry(tokens: JwtChannelTokens) -> None:
    token, expires_at = tokens.issue(CHANNEL)

    assert tokens.channel_of(token) == CHANNEL
    assert expires_at == T0 + timedelta(seconds=3600)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {
        "sub": CHANNEL,
        "iat": int(T0.timestamp()),
        "exp": int(T0.timestamp()) + 3600,
        "aud": "demo-relay:channel",
        "iss": "demo-relay",
    }


def test_token_is_reusable_until_it_expires_with_leeway(tokens: JwtChannelTokens, clock: FakeClock) -> None:
    token, _ = tokens.issue(CHANNEL)

    clock.advance(3599)
    assert tokens.channel_of(token) == CHANNEL
    assert tokens.channel_of(token) == CHANNEL  # reusable: a reconnecting page presents it again
    clock.advance(1 + 4)  # 4 s past `exp`: inside the 5 s leeway
    assert tokens.channel_of(token) == CHANNEL
    clock.advance(1)
    with pytest.raises(InvalidToken):
        tokens.channel_of(token)


def test_token_from_the_future_is_refused(tokens: JwtChannelTokens, clock: FakeClock) -> None:
    ahead = JwtChannelTokens(SECRET, ttl_s=3600, clock=FakeClock(T0 + timedelta(seconds=60)))
    token, _ = ahead.issue(CHANNEL)

    with pytest.raises(InvalidToken):
        tokens.channel_of(token)
    clock.advance(56)  # within the leeway of its `iat`
    assert tokens.channel_of(token) == CHANNEL


def test_token_signed_with_another_secret_is_refused(tokens: JwtChannelTokens, clock: FakeClock) -> None:
    other = JwtChannelTokens(SECRET + "-other", ttl_s=3600, clock=clock)
    token, _ = other.issue(CHANNEL)

    with pytest.raises(InvalidToken):
        tokens.channel_of(token)


def test_tampered_token_is_refused(tokens: JwtChannelTokens) -> None:
    token, _ = tokens.issue(CHANNEL)
    header, _payload, signature = token.split(".")
    other_payload = jwt.utils.base64url_encode(b'{"sub":"demo-other"}').decode()

    with pytest.raises(InvalidToken):
        tokens.channel_of(f"{header}.{other_payload}.{signature}")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"aud": [AUDIENCE, "x"]}, id="audience-list"),
        pytest.param({"iss": "supabase"}, id="wrong-issuer"),
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"sub": None}, id="no-sub"),
        pytest.param({"aud": None}, id="no-audience"),
        pytest.param({"iss": None}, id="no-issuer"),
        pytest.param({"exp": True}, id="bool-exp"),
        pytest.param({"exp": "never"}, id="string-exp"),
        pytest.param({"iat": 1.5e9}, id="float-iat"),
        pytest.param({"sub": 42}, id="numeric-sub"),
        pytest.param({"sub": ""}, id="empty-sub"),
    ],
)
def test_tokens_with_wrong_claims_are_refused(tokens: JwtChannelTokens, overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        tokens.channel_of(forge(tokens, **overrides))


def test_forged_baseline_is_accepted(tokens: JwtChannelTokens) -> None:
    # Guards the parametrised test above: its tokens fail because of the override, not the helper.
    assert tokens.channel_of(forge(tokens)) == CHANNEL


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_key(
    tokens: JwtChannelTokens, algorithm: str
) -> None:
    with pytest.raises(InvalidToken):
        tokens.channel_of(forge(tokens, algorithm=algorithm))


def test_alg_none_is_refused(tokens: JwtChannelTokens) -> None:
    unsigned = jwt.encode(
        {"sub": CHANNEL, "iat": 0, "exp": 2**40, "aud": AUDIENCE, "iss": ISSUER}, "", algorithm="none"
    )

    with pytest.raises(InvalidToken):
        tokens.channel_of(unsigned)


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "....", "é.é.é", "eyJhbGciOiJIUzI1NiJ9.e30.", "x" * 5000]
)
def test_malformed_tokens_are_refused(tokens: JwtChannelTokens, token: str) -> None:
    with pytest.raises(InvalidToken):
        tokens.channel_of(token)


def test_short_secret_still_gives_a_full_length_key(clock: FakeClock) -> None:
    # The key is derived from the secret, so PyJWT never warns about (or refuses) a short HMAC key.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        short = JwtChannelTokens("s3cret", ttl_s=60, clock=clock)
        token, _ = short.issue(CHANNEL)
        assert short.channel_of(token) == CHANNEL


@pytest.mark.parametrize(("secret", "ttl_s"), [("", 60), (SECRET, 0)])
def test_unusable_configuration_is_refused(clock: FakeClock, secret: str, ttl_s: int) -> None:
    with pytest.raises(ConfigurationError):
        JwtChannelTokens(secret, ttl_s=ttl_s, clock=clock)
