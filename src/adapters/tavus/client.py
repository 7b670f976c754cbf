"""The Tavus API over httpx: conversations (AgentConversations) and a persona's tools (PersonaTools).

Every call has bounded timeouts; idempotent ones (reads, JSON Patch with a `test`, field-replace PATCH,
deletes, ending a conversation) are retried with backoff when Tavus is unreachable or answers 5xx/429;
creating a conversation is never retried (a lost answer could mean a conversation billed twice). Tavus's
answers become domain errors in one place (`_raise_for`): its key refused → AgentUnauthorized, its
concurrency limit → AgentCapacity, anything it refuses as a request → AgentRejected, unreachable / 5xx →
AgentUnavailable. Never an exception a route would turn into a 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from demo_relay.domain.errors import (
    AgentCapacity,
    AgentRejected,
    AgentUnauthorized,
    AgentUnavailable,
)
from demo_relay.domain.models import ConversationRequest, PersonaTool, StartedConversation, ToolDelivery
from demo_relay.domain.use_cases.tool_definition import ON_RESOLVE

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
ATTEMPTS = 3
T = TypeVar("T")
# What Tavus says when the account's concurrent conversations are all in use (a 400, not a 429).
_CAPACITY_WORDS = ("concurrent",)
# Tavus answers an unknown or malformed conversation id with 400 "Invalid conversation_id"; clients also
# see 404/409 for one that is gone or has ended.
_GONE = (400, 404, 409, 410)
TOOL_TIMEOUT_S = 10.0


class _Retryable(Exception):
    def __init__(self, error: AgentUnavailable | AgentCapacity) -> None:
        super().__init__(error.message)
        self.error = error


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])[:300]
    return json.dumps(body)[:300]


def _raise_for(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    message = _message(response)
    if status in (401, 403):
        raise AgentUnauthorized(f"Tavus refused the API key ({what}: {status} {message})")
    if status == 429 or any(word in message.lower() for word in _CAPACITY_WORDS):
        raise AgentCapacity(f"Tavus is at its concurrency limit: {message}")
    if status >= 500:
        raise AgentUnavailable(f"Tavus answered {status} to {what}: {message}")
    raise AgentRejected(f"Tavus refused {what}: {message}", tavus_status=status)


class TavusClient:
    """Implements AgentConversations and PersonaTools against `base_url` (…/v2)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        delivery: ToolDelivery,
        webhook_secret: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_wait_s: float = 0.25,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._delivery = delivery
        self._secret = webhook_secret
        self._timeout = timeout
        self._transport = transport
        self._retry_wait_s = retry_wait_s
        self._http: httpx.AsyncClient | None = None

    # --- plumbing -------------------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        """Made on first use, inside the event loop that uses it; closed by aclose()."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self._base_url,
                headers={"x-api-key": self._api_key, "user-agent": "demo-relay"},
                timeout=self._timeout,
                transport=self._transport,
                follow_redirects=False,
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def _send(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:  # refused, reset, timed out, DNS
            raise AgentUnavailable(f"Tavus could not be reached ({what}: {type(exc).__name__})") from exc
        return response

    async def _checked(
        self, method: str, path: str, what: str, *, ok: tuple[int, ...] = (), **kwargs: Any
    ) -> Any:
        """One call; its JSON (None for an empty body). Statuses in `ok` are answers, not errors."""
        response = await self._send(method, path, what, **kwargs)
        if response.status_code not in ok:
            _raise_for(response, what)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    async def _idempotent(self, call: Callable[[], Awaitable[T]]) -> T:
        """Retried while Tavus is unreachable, 5xx or rate-limiting: ATTEMPTS tries, exponential waits."""

        async def attempt() -> T:
            try:
                return await call()
            except (AgentUnavailable, AgentCapacity) as exc:
                raise _Retryable(exc) from exc

        try:
            async for retry in AsyncRetrying(
                stop=stop_after_attempt(ATTEMPTS),
                wait=wait_exponential(multiplier=self._retry_wait_s, max=2.0),
                retry=retry_if_exception_type(_Retryable),
                reraise=True,
            ):
                with retry:
                    return await attempt()
        except _Retryable as exc:
            raise exc.error from exc.__cause__
        raise AssertionError("unreachable")  # AsyncRetrying either returns or raises

    # --- AgentConversations ---------------------------------------------------------------------

    async def start(self, request: ConversationRequest) -> StartedConversation:
        body: dict[str, Any] = {
            "persona_id": request.persona_id,
            "callback_url": request.callback_url,
            "properties": {
                "max_call_duration": request.max_call_s,
                "participant_left_timeout": request.participant_left_timeout_s,
                "participant_absent_timeout": request.participant_absent_timeout_s,
            },
        }
        optional = {
            "replica_id": request.replica_id,
            "conversation_name": request.name,
            "custom_greeting": request.custom_greeting,
            "conversational_context": request.conversational_context,
        }
        body.update({key: value for key, value in optional.items() if value})
        answer = await self._checked("POST", "/conversations", "creating a conversation", json=body)
        if not isinstance(answer, dict) or not isinstance(answer.get("conversation_id"), str):
            raise AgentUnavailable("Tavus answered a conversation without conversation_id")
        url = answer.get("conversation_url")
        return StartedConversation(
            conversation_id=answer["conversation_id"],
            conversation_url=url if isinstance(url, str) else "",
            status=str(answer.get("status") or "active"),
        )

    async def end(self, conversation_id: str) -> None:
        path = f"/conversations/{conversation_id}/end"
        # A conversation Tavus no longer knows, or that has ended, is ended: what we wanted.
        await self._idempotent(lambda: self._checked("POST", path, "ending a conversation", ok=_GONE))

    # --- PersonaTools ---------------------------------------------------------------------------

    async def install(self, persona_id: str, tool: PersonaTool) -> None:
        if tool.delivery == ToolDelivery.API:
            await self._install_registry(persona_id, tool)
        else:
            await self._install_inline(persona_id, tool)

    async def uninstall(self, persona_id: str, tool_name: str) -> None:
        await self._remove_inline(persona_id, tool_name)
        tool = await self._registry_tool(tool_name)
        if tool is not None and tool_name != "play_video":  # a shared name is not ours to delete
            await self._idempotent(
                lambda: self._checked("DELETE", f"/tools/{tool['tool_id']}", "deleting a tool", ok=(404,))
            )

    # The persona's inline tools (`layers.llm.tools`, OpenAI function style): read, then replaced as a
    # whole by JSON Patch, with a `test` of the list we read so a concurrent edit is never overwritten.

    async def _persona(self, persona_id: str) -> dict[str, Any]:
        answer = await self._idempotent(
            lambda: self._checked("GET", f"/personas/{persona_id}", "reading the persona")
        )
        # The docs wrap it as {"data": [persona]}; clients in the wild read a bare object: take either.
        if isinstance(answer, dict) and isinstance(answer.get("data"), list) and answer["data"]:
            answer = answer["data"][0]
        if not isinstance(answer, dict):
            raise AgentUnavailable("Tavus answered the persona in an unknown shape")
        return answer

    async def _set_inline(self, persona_id: str, persona: Mapping[str, Any], tools: list[Any]) -> None:
        layers = persona.get("layers")
        llm = layers.get("llm") if isinstance(layers, dict) else None
        if not isinstance(layers, dict):
            ops: list[dict[str, Any]] = [{"op": "add", "path": "/layers", "value": {"llm": {"tools": tools}}}]
        elif not isinstance(llm, dict):
            ops = [{"op": "add", "path": "/layers/llm", "value": {"tools": tools}}]
        elif "tools" not in llm:
            ops = [{"op": "add", "path": "/layers/llm/tools", "value": tools}]
        else:
            ops = [
                {"op": "test", "path": "/layers/llm/tools", "value": llm["tools"]},
                {"op": "replace", "path": "/layers/llm/tools", "value": tools},
            ]
        # 304: "No changes were made to the persona" — it already was as we want it.
        await self._idempotent(
            lambda: self._checked(
                "PATCH", f"/personas/{persona_id}", "updating the persona's tools", ok=(304,), json=ops
            )
        )

    @staticmethod
    def _inline_tools(persona: Mapping[str, Any]) -> list[Any]:
        layers = persona.get("layers")
        llm = layers.get("llm") if isinstance(layers, dict) else None
        tools = llm.get("tools") if isinstance(llm, dict) else None
        return list(tools) if isinstance(tools, list) else []

    @staticmethod
    def _named(entry: Any) -> str | None:
        function = entry.get("function") if isinstance(entry, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        return name if isinstance(name, str) else None

    async def _install_inline(self, persona_id: str, tool: PersonaTool) -> None:
        persona = await self._persona(persona_id)
        current = self._inline_tools(persona)
        ours = {
            "type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
        }
        others = [entry for entry in current if self._named(entry) != tool.name]
        if [*others, ours] == current:
            return
        await self._set_inline(persona_id, persona, [*others, ours])

    async def _remove_inline(self, persona_id: str, tool_name: str) -> None:
        persona = await self._persona(persona_id)
        current = self._inline_tools(persona)
        kept = [entry for entry in current if self._named(entry) != tool_name]
        if kept != current:
            await self._set_inline(persona_id, persona, kept)

    # The Tools registry (`/tools`, names unique per account), attached to the persona (PAL).

    async def _registry_tool(self, name: str) -> dict[str, Any] | None:
        answer = await self._idempotent(
            lambda: self._checked(
                "GET", "/tools", "listing tools", params={"name_or_uuid": name, "limit": 100, "page": 1}
            )
        )
        rows = answer.get("data") if isinstance(answer, dict) else answer
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and row.get("name") == name and isinstance(row.get("tool_id"), str):
                return row
        return None

    def _registry_body(self, tool: PersonaTool) -> dict[str, Any]:
        return {
            "name": tool.name,
            "description": tool.description,
            "parameters": dict(tool.parameters),
            "delivery": {
                "api": {
                    "url": tool.webhook_url,
                    "method": "POST",
                    "timeout": TOOL_TIMEOUT_S,
                    "auth": {"type": "hmac", "secret": self._secret},
                }
            },
            "origin": "llm",
            "on_resolve": ON_RESOLVE,
        }

    async def _install_registry(self, persona_id: str, tool: PersonaTool) -> None:
        body = self._registry_body(tool)
        existing = await self._registry_tool(tool.name)
        if existing is None:
            created = await self._checked("POST", "/tools", "creating the tool", json=body)
            tool_id = created.get("tool_id") if isinstance(created, dict) else None
            if not isinstance(tool_id, str):
                raise AgentUnavailable("Tavus answered a tool without tool_id")
        else:
            tool_id = existing["tool_id"]
            # A field replace (not JSON Patch): repeating it is harmless, and the secret is sent again
            # so a rotated webhook secret reaches Tavus.
            await self._idempotent(
                lambda: self._checked("PATCH", f"/tools/{tool_id}", "updating the tool", json=body)
            )
        attached = await self._idempotent(
            lambda: self._checked("GET", f"/pals/{persona_id}/tools/", "listing the persona's tools")
        )
        rows = attached.get("data") if isinstance(attached, dict) else attached
        ids = (
            {row.get("tool_id") for row in rows if isinstance(row, dict)} if isinstance(rows, list) else set()
        )
        if tool_id not in ids:
            await self._idempotent(
                lambda: self._checked(
                    "POST", f"/pals/{persona_id}/tools/", "attaching the tool", json={"tool_ids": [tool_id]}
                )
            )
