"""Who may call a route: `owner_guard` (on the owner routes) admits only an owner token
(`Authorization: Bearer <ADMIN_TOKEN>`), before the body is even read. No token, or a wrong one: 401
unauthorized. The owner tokens are the app's (`app.state`, set by create_app)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from demo_relay.domain.errors import Unauthorized
from demo_relay.domain.ports import Owners


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


OWNERS_STATE = "owners"


async def identify_owner(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Who the bearer is, if an owner. Unauthorized without a token or with one that proves nobody;
    Forbidden for a signed-in user who is not an owner."""
    owners: Owners = connection.app.state[OWNERS_STATE]
    token = bearer_token(connection)
    if token is None:
        raise Unauthorized(
            "an owner token is required: Authorization: Bearer <ADMIN_TOKEN or Supabase token>"
        )
    return await owners.identify(token)


async def owner_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    await identify_owner(connection)
