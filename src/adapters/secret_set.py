"""A set of secrets a presented value is checked against in constant time: SHA-256 digests are compared,
every configured secret is checked (no early exit), so neither a secret's length nor how far a guess
matches shows in the timing. Several secrets at once allow rotation."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


class SecretSet:
    def __init__(self, secrets: Sequence[str]) -> None:
        self._digests = [_digest(secret) for secret in secrets]

    def __bool__(self) -> bool:
        return bool(self._digests)

    def contains(self, presented: str) -> bool:
        candidate = _digest(presented)
        found = False
        for digest in self._digests:
            found |= hmac.compare_digest(digest, candidate)
        return found
