"""The three webhook signature schemes against the shared test vectors (signatures.json): the exact
expected signatures verify, any change of body, secret or timestamp does not, several secrets rotate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from demo_relay.adapters.signatures import standard_webhooks, tavus_hmac, verifiers_for
from demo_relay.adapters.signatures.callback_token import CallbackTokenVerifier, HmacCallbackTokens
from demo_relay.adapters.signatures.standard_webhooks import StandardWebhooksVerifier
from demo_relay.adapters.signatures.tavus_hmac import TavusHmacVerifier
from demo_relay.adapters.signatures.url_token import UrlTokenVerifier
from demo_relay.domain import errors
from demo_relay.domain.models import InboundRequest
from demo_relay.domain.ports import Verdict
from demo_relay.domain.use_cases.authenticate import authenticate
from tests.support.tavus_fixtures import FIXTURES, signature_vectors

VECTORS = signature_vectors()
TAVUS = VECTORS["x_tavus_signature"]
SW = VECTORS["standard_webhooks"]
SW_TIME = datetime.fromtimestamp(int(SW["webhook-timestamp"]), UTC)
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def tavus_request(body: bytes, signature: str) -> InboundRequest:
    return InboundRequest(body, {"x-tavus-signature": signature}, {})


def sw_request(
    body: bytes, signature: str, msg_id: str = SW["webhook-id"], ts: str = SW["webhook-timestamp"]
) -> InboundRequest:
    return InboundRequest(
        body, {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": signature}, {}
    )


TAVUS_BODY = (FIXTURES / TAVUS["body_file"]).read_bytes()


def test_tavus_vector_verifies_and_sign_reproduces_it() -> None:
    assert tavus_hmac.sign(TAVUS["secret"], TAVUS_BODY) == TAVUS["expected"]
    verifier = TavusHmacVerifier([TAVUS["secret"]])
    assert verifier.verify(tavus_request(TAVUS_BODY, TAVUS["expected"]), NOW) is Verdict.VALID
    assert (
        verifier.verify(tavus_request(TAVUS_BODY, "sha256=" + TAVUS["expected"].upper()), NOW)
        is Verdict.VALID
    )


@pytest.mark.parametrize(
    ("body", "secret", "signature"),
    [
        (TAVUS_BODY + b" ", TAVUS["secret"], TAVUS["expected"]),
        (TAVUS_BODY.rstrip(b"\n"), TAVUS["secret"], TAVUS["expected"]),  # the newline is signed too
        (TAVUS_BODY, "another-secret", TAVUS["expected"]),
        (TAVUS_BODY, TAVUS["secret"], ""),
        (TAVUS_BODY, TAVUS["secret"], "zz" * 32),
    ],
)
def test_tavus_signature_rejects_any_change(body: bytes, secret: str, signature: str) -> None:
    assert TavusHmacVerifier([secret]).verify(tavus_request(body, signature), NOW) is Verdict.INVALID


def test_tavus_signature_accepts_any_configured_secret_during_rotation() -> None:
    verifier = TavusHmacVerifier(["new-secret", TAVUS["secret"]])
    assert verifier.verify(tavus_request(TAVUS_BODY, TAVUS["expected"]), NOW) is Verdict.VALID


def test_absent_header_says_nothing() -> None:
    assert TavusHmacVerifier(["s"]).verify(InboundRequest(b"{}", {}, {}), NOW) is Verdict.ABSENT
    assert StandardWebhooksVerifier(["s"], 300).verify(InboundRequest(b"{}", {}, {}), NOW) is Verdict.ABSENT
    assert UrlTokenVerifier(["s"]).verify(InboundRequest(b"{}", {}, {}), NOW) is Verdict.ABSENT


def test_standard_webhooks_vector() -> None:
    body = SW["body"].encode()
    assert (
        standard_webhooks.sign(SW["secret"], SW["webhook-id"], int(SW["webhook-timestamp"]), body)
        == SW["expected"]
    )
    verifier = StandardWebhooksVerifier([SW["secret"]], 300)
    assert verifier.verify(sw_request(body, SW["expected"]), SW_TIME) is Verdict.VALID


def test_standard_webhooks_several_signatures_any_one_verifies() -> None:
    body = SW["body"].encode()
    header = f"v1,AAAAbogus= v2,whatever {SW['expected']}"
    assert (
        StandardWebhooksVerifier([SW["secret"]], 300).verify(sw_request(body, header), SW_TIME)
        is Verdict.VALID
    )


@pytest.mark.parametrize(
    "change",
    ["body", "id", "timestamp", "secret", "version"],
)
def test_standard_webhooks_rejects_any_change(change: str) -> None:
    body = SW["body"].encode()
    secret, signature, msg_id, ts = SW["secret"], SW["expected"], SW["webhook-id"], SW["webhook-timestamp"]
    if change == "body":
        body += b" "
    elif change == "id":
        msg_id += "x"
    elif change == "timestamp":
        ts = str(int(ts) + 1)
    elif change == "secret":
        secret = "whsec_" + "A" * 32
    else:
        signature = signature.replace("v1,", "v2,")
    verifier = StandardWebhooksVerifier([secret], 300)
    assert verifier.verify(sw_request(body, signature, msg_id, ts), SW_TIME) is Verdict.INVALID


def test_standard_webhooks_stale_only_when_the_signature_is_right() -> None:
    body = SW["body"].encode()
    verifier = StandardWebhooksVerifier([SW["secret"]], 300)
    late = datetime.fromtimestamp(int(SW["webhook-timestamp"]) + 301, UTC)
    early = datetime.fromtimestamp(int(SW["webhook-timestamp"]) - 301, UTC)
    assert verifier.verify(sw_request(body, SW["expected"]), late) is Verdict.STALE
    assert verifier.verify(sw_request(body, SW["expected"]), early) is Verdict.STALE
    assert verifier.verify(sw_request(body + b"!", SW["expected"]), late) is Verdict.INVALID


def test_standard_webhooks_plain_secret_uses_its_utf8_bytes() -> None:
    body = b'{"a":1}'
    signature = standard_webhooks.sign("plain-secret", "msg_1", 1000, body)
    verifier = StandardWebhooksVerifier(["plain-secret"], 300)
    at = datetime.fromtimestamp(1000, UTC)
    assert verifier.verify(sw_request(body, signature, "msg_1", "1000"), at) is Verdict.VALID


def test_url_token() -> None:
    verifier = UrlTokenVerifier(["t0ken", "other"])
    assert verifier.verify(InboundRequest(b"", {}, {"token": "t0ken"}), NOW) is Verdict.VALID
    assert verifier.verify(InboundRequest(b"", {}, {"token": "t0ke"}), NOW) is Verdict.INVALID
    assert verifier.verify(InboundRequest(b"", {}, {"token": ""}), NOW) is Verdict.INVALID


def test_url_token_can_be_disabled() -> None:
    schemes = verifiers_for(["t0ken"], 300, allow_url_token=False)
    with pytest.raises(errors.AuthenticationFailed):
        authenticate(schemes, InboundRequest(b"{}", {}, {"token": "t0ken"}), NOW)


def test_any_presented_scheme_that_verifies_is_enough() -> None:
    schemes = verifiers_for([TAVUS["secret"]], 300, allow_url_token=True)
    request = InboundRequest(
        TAVUS_BODY,
        {
            "x-tavus-signature": "00" * 32,
            "webhook-id": "m",
            "webhook-timestamp": "1",
            "webhook-signature": "v1,x",
        },
        {"token": TAVUS["secret"]},
    )
    assert authenticate(schemes, request, NOW).name == "url_token"


def test_stale_is_reported_only_when_it_is_the_only_failure() -> None:
    schemes = verifiers_for([SW["secret"]], 300, allow_url_token=True)
    body = SW["body"].encode()
    late = datetime.fromtimestamp(int(SW["webhook-timestamp"]) + 3600, UTC)
    with pytest.raises(errors.StaleTimestamp):
        authenticate(schemes, sw_request(body, SW["expected"]), late)
    mixed = sw_request(body, SW["expected"])
    mixed = InboundRequest(mixed.body, {**mixed.headers, "x-tavus-signature": "00"}, {})
    with pytest.raises(errors.AuthenticationFailed) as caught:
        authenticate(schemes, mixed, late)
    assert caught.value.code == "invalid_signature"


def test_a_callback_token_verifies_for_its_demo_under_any_configured_secret_only() -> None:
    old, new = "old-secret-0123456789", "new-secret-0123456789"
    token = HmacCallbackTokens([old]).issue("demo-a")
    verifier = CallbackTokenVerifier([new, old])  # rotated: the new secret first, the old still accepted

    def verdict(query: dict[str, str]) -> Verdict:
        return verifier.verify(InboundRequest(b"{}", {}, query), datetime.now(UTC))

    assert verdict({"demo_id": "demo-a", "callback_token": token}) is Verdict.VALID
    assert verdict({"demo_id": "demo-a", "callback_token": token.upper()}) is Verdict.VALID
    assert verdict({"demo_id": "demo-b", "callback_token": token}) is Verdict.INVALID
    assert verdict({"callback_token": token}) is Verdict.INVALID  # no demo named
    assert verdict({"demo_id": "demo-a", "callback_token": "é" + token[1:]}) is Verdict.INVALID
    assert verdict({"demo_id": "demo-a"}) is Verdict.ABSENT
    assert old not in token and new not in HmacCallbackTokens([new]).issue("demo-a")
    assert (
        CallbackTokenVerifier([new]).verify(
            InboundRequest(b"{}", {}, {"demo_id": "demo-a", "callback_token": token}), datetime.now(UTC)
        )
        is Verdict.INVALID
    )  # once the old secret is gone, its tokens are too
