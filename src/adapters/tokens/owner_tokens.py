"""Owner tokens (ADMIN_TOKEN): compared as SHA-256 digests in constant time, every configured token
checked (no early exit), so neither a token's length nor how far it matches shows in the timing.
Several tokens may be configured at once, for rotation."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from demo_relay.domain.errors import ConfigurationError


class StaticOwnerTokens:
    """Implements the OwnerTokens port."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if not tokens:
            raise ConfigurationError("owner tokens need at least one ADMIN_TOKEN")
        self._digests = [hashlib.sha256(t.encode()).digest() for t in tokens]

    def is_owner(self, bearer: str) -> bool:
        presented = hashlib.sha256(bearer.encode("utf-8", "surrogatepass")).digest()
        found = False
        for digest in self._digests:
            found |= hmac.compare_digest(digest, presented)
        return found
