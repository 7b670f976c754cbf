"""Who may call a route: `owner_guard` admits only an owner token (`Authorization: Bearer <ADMIN_TOKEN>`),
before the body is even read. No token, or a wrong one: 401 unauthorized."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from demo_relay.domain.errors import Unauthorized
from demo_relay.domain.ports import OwnerTokens


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def owner_guard(owners: OwnerTokens) -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        token = bearer_token(connection)
        if token is None:
            raise Unauthorized("an owner token is required: Authorization: Bearer <ADMIN_TOKEN>")
        if not owners.is_owner(token):
            raise Unauthorized("the owner token is not valid")

    return guard
