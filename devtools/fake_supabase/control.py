"""Control endpoints under /__fake/ so Node and browser tests can read counters and inject faults.

- `GET /__fake/stats` -> counters (see FakeStats.to_json, plus `ws_open`)
- `GET /__fake/faults` -> active faults; `POST /__fake/faults` `{"service", "status"?, "delay_s"?, "down"?,
  "times"? (default 1, null: until cleared), "match"?}` -> 201 the fault; `DELETE /__fake/faults` clears them
- `POST /__fake/reset` (`{"data": true}` also drops objects and created buckets) -> 204
- `POST /__fake/token` `{"role"?, "expires_in_s"?, "claims"?}` -> `{"access_token": <JWT>}` for setAuth
- `GET /__fake/keys` -> `{"url"?, "anon_key", "service_key", "jwt_secret"}`
They are unauthenticated: the fake only ever listens on a test machine."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler

from fake_supabase.fake import FakeSupabase
from fake_supabase.faults import SERVICES, Fault


async def _body(request: Request[Any, Any, Any]) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return None


def make_control_handlers(fake: FakeSupabase) -> list[HTTPRouteHandler]:
    @get("/__fake/stats")
    async def stats() -> dict[str, Any]:
        return fake.stats_json()

    @get("/__fake/faults")
    async def list_faults() -> list[dict[str, Any]]:
        return [f.to_json() for f in fake.faults.active()]

    @post("/__fake/faults")
    async def add_fault(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await _body(request)
        if not isinstance(body, dict) or body.get("service") not in SERVICES:
            return Response(
                content={"message": f"service must be one of {', '.join(SERVICES)}"}, status_code=400
            )
        try:
            fault = Fault(
                service=body["service"],
                status=body.get("status"),
                delay_s=float(body.get("delay_s") or 0),
                down=bool(body.get("down", False)),
                times=body.get("times", 1),
                match=body.get("match"),
            )
        except (TypeError, ValueError) as error:
            return Response(content={"message": str(error)}, status_code=400)
        return Response(content=fake.faults.add(fault).to_json(), status_code=201)

    @delete("/__fake/faults")
    async def clear_faults() -> None:
        fake.clear_faults()

    @post("/__fake/reset", status_code=204)
    async def reset(request: Request[Any, Any, Any]) -> None:
        body = await _body(request)
        fake.reset(data=isinstance(body, dict) and body.get("data") is True)

    @post("/__fake/token")
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await _body(request)
        body = body if isinstance(body, dict) else {}
        claims = body.get("claims")
        claims = claims if isinstance(claims, dict) else {}
        access_token = fake.access_token(
            role=str(body.get("role", "authenticated")),
            expires_in_s=int(body.get("expires_in_s", 3600)),
            **claims,
        )
        return Response(content={"access_token": access_token}, status_code=200)

    @post("/__fake/users", status_code=201)
    async def add_user(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await _body(request)
        if not isinstance(body, dict) or not body.get("email") or not body.get("password"):
            return Response({"error": "email and password are required"}, status_code=400)
        user = fake.add_user(str(body["email"]), str(body["password"]))
        return Response(user.to_json(), status_code=201)

    @get("/__fake/keys")
    async def keys() -> dict[str, Any]:
        return {"anon_key": fake.anon_key, "service_key": fake.service_key, "jwt_secret": fake.jwt_secret}

    return [stats, list_faults, add_fault, clear_faults, reset, token, add_user, keys]
