"""JSON bodies read strictly. Litestar converts a body into its Struct with msgspec's lax conversion, which
takes `0` for `false` and `"60"` for `60`; the OpenAPI document says boolean and integer, and a client
that sends otherwise has a bug worth hearing about. So a route reads its body again, strictly: the same
400 `invalid_request` with the field in `problems` as for any body that breaks the schema."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

T = TypeVar("T")


async def strict(request: Request[Any, Any, Any], kind: type[T]) -> T:
    try:
        return msgspec.json.decode(await request.body(), type=kind, strict=True)
    except msgspec.ValidationError as exc:
        path = str(exc).rpartition("at `$.")[2].rstrip("`") if "at `$." in str(exc) else None
        raise ValidationException(
            "the request is not valid", extra=[{"message": str(exc), "key": path, "source": "body"}]
        ) from None
    except msgspec.DecodeError as exc:
        raise ValidationException(
            "the body is not JSON", extra=[{"message": str(exc), "source": "body"}]
        ) from None
