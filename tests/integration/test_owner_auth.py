"""Owners signed in with Supabase Auth (DESIGN §11): supabase-js signs in with email and password at the
local fake (its Auth endpoints checked by supabase-js itself), and the relay takes the access token on the
owner routes when the email is in OWNER_EMAILS, verified with the project's JWT secret (HS256) or with the
project's JWKS (ES256 keys). Expired, wrong-role, tampered and not-allowed tokens are refused: 401 for a
token that proves nobody, 403 for a user who is not an owner. ADMIN_TOKEN keeps working beside them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from demo_relay.adapters.tokens.owners import allowed_owner
from tests.support.app import SeededApp, make_settings, owner_headers
from tests.support.server import free_port, running
from tests.support.supabase import RunningFakeSupabase, node_script, running_fake_supabase

OWNER, OUTSIDER = "ana@acme.test", "eve@elsewhere.test"
PASSWORD = "correct horse battery staple"


async def supabase_js_sign_in(supabase: RunningFakeSupabase, email: str, password: str) -> dict[str, Any]:
    return await node_script(
        "supabase_sign_in.mjs", "--url", supabase.url, "--key", supabase.anon_key,
        "--email", email, "--password", password,
    )  # fmt: skip


@pytest.fixture(params=["hs256", "es256"])
async def project(request: pytest.FixtureRequest) -> AsyncIterator[RunningFakeSupabase]:
    async with running_fake_supabase(asymmetric_keys=request.param == "es256") as supabase:
        supabase.fake.add_user(OWNER, PASSWORD)
        supabase.fake.add_user(OUTSIDER, PASSWORD)
        yield supabase


@pytest.fixture
async def client(
    project: RunningFakeSupabase, tmp_path: Path, database_url: str, db_pool: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    """The relay on a real socket: it fetches the JWKS from the fake, which runs on this event loop."""
    port = free_port()
    settings = make_settings(
        tmp_path,
        database_url,
        supabase_url=project.url,
        # No service key: the JWKS is public, owners need only the project's URL (and secret for HS256).
        supabase_anon_key=project.anon_key,
        supabase_jwt_secret=project.fake.jwt_secret,
        owner_emails=("@acme.test",),
        port=port,
    )
    async with (
        running(SeededApp(settings, database_url).app, port) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
    ):
        yield http


async def create_demo(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/api/demos", json={"name": "By Supabase"}, headers={"authorization": f"Bearer {token}"}
    )


async def test_an_owner_signed_in_with_supabase_js_manages_demos(
    client: httpx.AsyncClient, project: RunningFakeSupabase
) -> None:
    signed_in = await supabase_js_sign_in(project, OWNER, PASSWORD)
    assert signed_in["user"]["email"] == OWNER == signed_in["checked"]["email"]
    created = await create_demo(client, signed_in["access_token"])
    assert created.status_code == 201, created.text
    assert (await client.get("/api/auth-config")).json()["supabase"] == {
        "url": project.url,
        "anon_key": project.anon_key,
    }
    assert (
        await client.post("/api/demos", json={"name": "By admin"}, headers=owner_headers())
    ).status_code == 201


async def test_a_signed_in_user_who_is_not_an_owner_is_forbidden(
    client: httpx.AsyncClient, project: RunningFakeSupabase, db_pool: asyncpg.Pool
) -> None:
    signed_in = await supabase_js_sign_in(project, OUTSIDER, PASSWORD)
    before = await db_pool.fetchval("select count(*) from demos")
    refused = await create_demo(client, signed_in["access_token"])
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert OUTSIDER in refused.json()["message"]
    whoami = await client.get("/api/owner", headers={"authorization": f"Bearer {signed_in['access_token']}"})
    assert whoami.status_code == 403
    assert await db_pool.fetchval("select count(*) from demos") == before


async def test_wrong_credentials_are_refused_by_the_fake_as_by_supabase(project: RunningFakeSupabase) -> None:
    refused = await supabase_js_sign_in(project, OWNER, "wrong")
    assert refused["error"]["status"] == 400 and refused["error"]["code"] == "invalid_credentials"


async def test_expired_wrong_role_and_tampered_tokens_prove_nobody(
    client: httpx.AsyncClient, project: RunningFakeSupabase, db_pool: asyncpg.Pool
) -> None:
    user = project.fake.users[OWNER]
    good = project.fake.user_access_token(user)
    header, body, signature = good.split(".")
    tampered = f"{header}.{body}.{signature[:-4]}AAAA"
    tokens = {
        "expired": project.fake.user_access_token(user, expires_in_s=-120),
        "anon role": project.fake.user_access_token(user, role="anon"),
        "service role key": project.service_key,
        "tampered": tampered,
        "not a JWT": "definitely-not-a-token-0123456789",
        # Signed with the project's key, an allowed email, but for another audience.
        "other audience": project.fake.user_access_token(user, aud="not-authenticated"),
    }
    before = await db_pool.fetchval("select count(*) from demos")
    for name, token in tokens.items():
        refused = await create_demo(client, token)
        assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized"), (name, refused.text)
    assert await db_pool.fetchval("select count(*) from demos") == before


def test_owner_emails_take_addresses_and_domains() -> None:
    allowed = ("ana@acme.test", "@corp.example")
    assert allowed_owner("Ana@Acme.test", allowed)
    assert allowed_owner("bob@corp.example", allowed)
    assert not allowed_owner("bob@acme.test", allowed)
    assert not allowed_owner("bob@evil-corp.example", allowed)
    assert not allowed_owner("bob@sub.corp.example", allowed)
    assert not allowed_owner("corp.example", allowed)
