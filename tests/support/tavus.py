"""The local protocol-faithful Tavus API (fake_tavus) for tests: a re-export, and a runner that serves it
with uvicorn on a free loopback port inside the test's event loop (like tests/support/supabase.py does for
fake_supabase), with a control client for its /__fake endpoints.

    async with running_fake_tavus(personas=["pdemo0000001:rdemo0000001"]) as tavus:
        tavus.base_url          # http://127.0.0.1:<port>/v2 — give it to a client (or the official SDK)
        tavus.api_key           # the x-api-key it expects
        await tavus.tool_call(conversation_id, "play_video", {"video_title": "Intro"})
        await tavus.fake.drain()   # wait for callbacks posted in the background
        tavus.fake.callbacks       # what was posted, in order

It imports nothing of the official SDK (tavus_mcp has no type information); tests build their TavusClient
from `base_url` and `api_key`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from fake_tavus import (
    DEFAULT_API_KEY,
    FakeTavus,
    Fault,
    PersonaEnvelope,
    PersonaSeed,
    create_fake_tavus,
    sign,
)
from tests.support.server import free_port, running

__all__ = [
    "DEFAULT_API_KEY",
    "FakeTavus",
    "Fault",
    "PersonaSeed",
    "RunningFakeTavus",
    "running_fake_tavus",
    "sign",
]


@dataclass(frozen=True)
class RunningFakeTavus:
    url: str  # http://127.0.0.1:<port>, where /__fake lives
    fake: FakeTavus

    @property
    def base_url(self) -> str:
        """The Tavus API base URL (`…/v2`), as clients and the SDK's TAVUS_PUBLIC_API_BASE_URL take it."""
        return f"{self.url}/v2"

    @property
    def api_key(self) -> str:
        return self.fake.api_key

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.fake.api_key}

    def api(self, **kwargs: Any) -> httpx.AsyncClient:
        """A plain client on the API with the key (for what the SDK refuses to send); close it."""
        return httpx.AsyncClient(base_url=self.base_url, headers=self.headers, trust_env=False, **kwargs)

    async def control(self, method: str, path: str, json: Any = None, **params: Any) -> httpx.Response:
        """One call to a /__fake endpoint, e.g. `control("POST", "/faults", {"status": 503})`."""
        async with httpx.AsyncClient(base_url=f"{self.url}/__fake", trust_env=False, timeout=15) as client:
            return await client.request(method, path, json=json, params=params or None)

    async def tool_call(self, conversation_id: str, name: str, arguments: Any = None, **extra: Any) -> Any:
        """The persona's agent calls its tool `name` (see fake_tavus.control); the control answer."""
        body = {"name": name, "arguments": arguments if arguments is not None else {}, **extra}
        response = await self.control("POST", f"/conversations/{conversation_id}/tool-call", body)
        response.raise_for_status()
        return response.json()

    async def room_messages(self, conversation_id: str, after: int = 0, wait_s: float = 0) -> list[Any]:
        response = await self.control("GET", f"/rooms/{conversation_id}/messages", after=after, wait_s=wait_s)
        response.raise_for_status()
        messages: list[Any] = response.json()["messages"]
        return messages

    def add_fault(self, **fields: Any) -> Fault:
        """In-process shortcut for `POST /__fake/faults`."""
        return self.fake.faults.add(Fault(**fields))


@asynccontextmanager
async def running_fake_tavus(
    *,
    api_key: str = DEFAULT_API_KEY,
    max_concurrent: int = 3,
    personas: Iterable[PersonaSeed | str] = (),
    persona_envelope: PersonaEnvelope = "bare",
) -> AsyncIterator[RunningFakeTavus]:
    """The fake on 127.0.0.1:<free port>, stopped (background deliveries cancelled) on exit."""
    app, fake = create_fake_tavus(
        api_key=api_key, max_concurrent=max_concurrent, personas=personas, persona_envelope=persona_envelope
    )
    async with running(app, free_port()) as url:
        yield RunningFakeTavus(url=url, fake=fake)
