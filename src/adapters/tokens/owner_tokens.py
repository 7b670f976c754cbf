"""Owner tokens (ADMIN_TOKEN), checked in constant time; several at once for rotation."""

from __future__ import annotations

from collections.abc import Sequence

from demo_relay.adapters.secret_set import SecretSet
from demo_relay.domain.errors import ConfigurationError


class StaticOwnerTokens:
    """Implements the OwnerTokens port."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = SecretSet(tokens)
        if not self._tokens:
            raise ConfigurationError("owner tokens need at least one ADMIN_TOKEN")

    def is_owner(self, bearer: str) -> bool:
        return self._tokens.contains(bearer)
