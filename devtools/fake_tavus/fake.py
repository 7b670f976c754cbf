"""The fake's state and its Python control surface: configuration, personas (PALs), conversations, the tools
registry and its attachments, the rooms (the stand-in for each conversation's Daily data channel), and the
records of everything the fake sent out (conversation callbacks, agent tool calls). One `FakeTavus` per app;
tests hold it to seed personas, read what was sent, inject faults and wait for background deliveries.

Everything is in memory and lives in one event loop (the server's): no locks, handlers never await between
reading and changing state except where a docstring says so."""

from __future__ import annotations

import asyncio
import copy
import secrets
import uuid
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from fake_tavus.faults import FaultBook

PersonaEnvelope = Literal["bare", "data"]
PERSONA_ENVELOPES: tuple[PersonaEnvelope, ...] = ("bare", "data")

# Public client code shows 32 lowercase hex characters; this one is fixed so a developer can paste it once.
DEFAULT_API_KEY = "fa4e7a05de0000000000000000000001"
DEFAULT_MAX_CONCURRENT = 3  # Tavus's Starter plan (what NewDomo hard-codes); the cap is per account
OWNER_ID = 4242  # the one account this fake serves
MASK = "********"  # how Tavus scrubs tool auth secrets in its answers (tavus-cli TOOL_AUTH_SCRUB_PLACEHOLDER)


def now_iso() -> str:
    """Tavus's timestamp shape in callbacks: `2025-07-11T06:45:47.472000Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_conversation_id() -> str:
    return "c" + secrets.token_hex(6)


def new_persona_id() -> str:
    return "p" + secrets.token_hex(6)[:11]


def new_tool_id() -> str:
    return "t" + secrets.token_hex(6)


def new_tool_call_id() -> str:
    return "call_" + secrets.token_hex(8)


def new_inference_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class PersonaSeed:
    """A persona that exists from the start (and again after a reset): the CLI's `--persona ID[:REPLICA]`."""

    persona_id: str
    default_replica_id: str | None = None
    persona_name: str | None = None
    layers: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, text: str) -> PersonaSeed:
        persona_id, _, replica = text.strip().partition(":")
        if not persona_id or "/" in persona_id or (":" in text and not replica):
            raise ValueError(f"persona {text!r}: expected ID or ID:REPLICA")
        return cls(persona_id=persona_id, default_replica_id=replica or None)


# The persona document as stored: legacy names only (persona_name, default_replica_id); the PAL names
# (pal_id, pal_name, default_face_id) are rendered from them, so both families always agree.
ALIASES = (("persona_id", "pal_id"), ("persona_name", "pal_name"), ("default_replica_id", "default_face_id"))
MANAGED = ("persona_id", "pal_id", "created_at", "updated_at", "tool_ids")


@dataclass
class Persona:
    persona_id: str
    doc: dict[str, Any]  # every field but the ids, timestamps and attachments; legacy names
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    @property
    def default_replica_id(self) -> str | None:
        value = self.doc.get("default_replica_id")
        return value if isinstance(value, str) and value else None

    def inline_tools(self) -> list[dict[str, Any]]:
        """`layers.llm.tools` (the legacy, OpenAI-function-style tools), whatever is stored there."""
        layers = self.doc.get("layers")
        llm = layers.get("llm") if isinstance(layers, dict) else None
        tools = llm.get("tools") if isinstance(llm, dict) else None
        return [t for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []

    def to_json(self, tool_ids: list[str]) -> dict[str, Any]:
        """The answer of GET /v2/personas/{id} (and /v2/pals/{id}): both name families, attached tool ids."""
        doc = copy.deepcopy(self.doc)
        out: dict[str, Any] = {
            "persona_id": self.persona_id,
            "pal_id": self.persona_id,
            "persona_name": doc.pop("persona_name", None),
            "system_prompt": doc.pop("system_prompt", None),
            "pipeline_mode": doc.pop("pipeline_mode", "full"),
            "context": doc.pop("context", None),
            "default_replica_id": doc.pop("default_replica_id", None),
            "layers": doc.pop("layers", None) or {},
            "document_ids": doc.pop("document_ids", None) or [],
            "document_tags": doc.pop("document_tags", None) or [],
        }
        out["pal_name"] = out["persona_name"]
        out["default_face_id"] = out["default_replica_id"]
        out.update(doc)  # any other field the client sent (greeting, objectives_id, perception_model, ...)
        out.update({"tool_ids": list(tool_ids), "created_at": self.created_at, "updated_at": self.updated_at})
        return out


@dataclass
class Conversation:
    conversation_id: str
    request: Any  # the create body exactly as received (parsed JSON)
    persona_id: str | None
    replica_id: str
    conversation_name: str
    callback_url: str | None
    status: Literal["active", "ended"] = "active"
    test_mode: bool = False
    meeting_token: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    shutdown_reason: str | None = None
    deleted: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)  # every callback envelope, sent or not
    turn_idx: int = 0
    outbox: asyncio.Task[None] | None = None  # the last callback delivery; the next one waits for it

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    @property
    def conversation_url(self) -> str:
        return f"https://tavus.daily.co/{self.conversation_id}"

    def to_json(self, *, verbose: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "conversation_id": self.conversation_id,
            "conversation_name": self.conversation_name,
            "conversation_url": self.conversation_url,
            "status": self.status,
            "persona_id": self.persona_id,
            "pal_id": self.persona_id,
            "replica_id": self.replica_id,
            "face_id": self.replica_id,
            "callback_url": self.callback_url,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if self.meeting_token is not None:
            out["meeting_token"] = self.meeting_token
        if verbose:
            # "an alternative to using the callback_url": the events Tavus would have posted
            out["shutdown_reason"] = self.shutdown_reason
            out["events"] = copy.deepcopy(self.events)
        return out


@dataclass
class Room:
    """A conversation's Daily room as far as app-messages go: what the agent broadcast (`messages`, each with
    a global `seq`) and what participants sent it (`heard`)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    heard: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


def mask_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A tool as Tavus answers it: every auth secret scrubbed to `********`."""
    out = copy.deepcopy(dict(tool))
    api = out.get("delivery", {}).get("api")
    auth = api.get("auth") if isinstance(api, dict) else None
    if isinstance(auth, dict):
        for key in ("token", "password", "value", "secret", "client_secret"):
            if key in auth:
                auth[key] = MASK
    return out


class FakeTavus:
    """State of one fake Tavus account. Build it with `create_fake_tavus`, which also makes the ASGI app."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        personas: Iterable[PersonaSeed | str] = (),
        persona_envelope: PersonaEnvelope = "bare",
    ) -> None:
        if persona_envelope not in PERSONA_ENVELOPES:
            raise ValueError(f"persona_envelope must be one of {', '.join(PERSONA_ENVELOPES)}")
        if max_concurrent < 0:
            raise ValueError("max_concurrent must not be negative")
        self._initial = (api_key, max_concurrent, persona_envelope)
        self.seeds = [PersonaSeed.parse(s) if isinstance(s, str) else s for s in personas]
        self.api_key = api_key
        self.max_concurrent = max_concurrent
        self.persona_envelope: PersonaEnvelope = persona_envelope
        self.faults = FaultBook()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: httpx.AsyncClient | None = None
        self._clear()

    def _clear(self) -> None:
        self.personas: dict[str, Persona] = {}
        self.conversations: dict[str, Conversation] = {}
        self.tools: dict[str, dict[str, Any]] = {}  # tool_id -> the tool with its real secrets
        self.attachments: dict[str, list[str]] = {}  # persona_id -> attached registry tool ids, in order
        self.rooms: dict[str, Room] = {}
        self.callbacks: list[dict[str, Any]] = []  # every callback POST: url, body, status or error
        self.tool_calls: list[dict[str, Any]] = []  # every agent tool call the control API made
        self.requests: list[dict[str, Any]] = []  # every /v2 request: method, path, query
        self.seq = 0
        for seed in self.seeds:
            self.seed_persona(
                {
                    "persona_id": seed.persona_id,
                    "default_replica_id": seed.default_replica_id,
                    "persona_name": seed.persona_name,
                    "layers": dict(seed.layers) if seed.layers is not None else None,
                }
            )

    def reset(self) -> None:
        """Back to the state at start: seeded personas only, initial configuration, no faults. Deliveries
        still in flight finish, but into the records of the old state."""
        self.api_key, self.max_concurrent, self.persona_envelope = self._initial
        self.faults.clear()
        self._clear()

    # --- personas ---------------------------------------------------------------------------------

    def seed_persona(self, fields: Mapping[str, Any]) -> Persona:
        """A persona as given (no validation beyond its id): `persona_id` (default: a new one), any fields.
        Replaces one with the same id, keeping its attached tools."""
        doc = {k: copy.deepcopy(v) for k, v in fields.items() if v is not None and k not in MANAGED}
        persona_id = str(fields.get("persona_id") or new_persona_id())
        doc.setdefault("persona_name", f"Fake persona {persona_id}")
        doc.setdefault("system_prompt", "You are a helpful product demo guide.")
        doc.setdefault("pipeline_mode", "full")
        persona = Persona(persona_id=persona_id, doc=doc)
        self.personas[persona_id] = persona
        self.attachments.setdefault(persona_id, [])
        return persona

    def persona_json(self, persona: Persona) -> dict[str, Any]:
        return persona.to_json(self.attachments.get(persona.persona_id, []))

    def persona_tool(self, persona: Persona, name: str) -> tuple[str, dict[str, Any]] | None:
        """The tool `name` as the persona's agent would call it: ("registry", tool) for an attached registry
        tool (checked first: the current mechanism), ("inline", function) for a `layers.llm.tools` entry."""
        for tool_id in self.attachments.get(persona.persona_id, []):
            tool = self.tools.get(tool_id)
            if tool is not None and tool["name"] == name:
                return "registry", tool
        for entry in persona.inline_tools():
            function = entry.get("function")
            if isinstance(function, dict) and function.get("name") == name:
                return "inline", function
        return None

    # --- conversations ----------------------------------------------------------------------------

    def live_conversation(self, conversation_id: str) -> Conversation | None:
        """A conversation the API still knows (not deleted)."""
        conversation = self.conversations.get(conversation_id)
        return None if conversation is None or conversation.deleted else conversation

    def active_count(self) -> int:
        return sum(1 for c in self.conversations.values() if c.status == "active" and not c.deleted)

    def room(self, conversation_id: str) -> Room:
        return self.rooms.setdefault(conversation_id, Room())

    def broadcast(self, conversation: Conversation, message: dict[str, Any]) -> dict[str, Any]:
        """Put an app-message from the agent in the room, numbered by the account-wide `seq`."""
        self.seq += 1
        head: dict[str, Any] = {k: message[k] for k in ("message_type", "event_type") if k in message}
        message = {**head, "seq": self.seq, **message}
        room = self.room(conversation.conversation_id)
        room.messages.append(message)
        room.notify()
        return message

    def event(
        self, conversation: Conversation, event_type: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        """A callback envelope (TAVUS_API.md §6), kept on the conversation for `?verbose=true`."""
        envelope = {
            "properties": properties,
            "conversation_id": conversation.conversation_id,
            "webhook_url": conversation.callback_url,
            "event_type": event_type,
            "message_type": event_type.split(".", 1)[0],
            "timestamp": now_iso(),
        }
        conversation.events.append(envelope)
        return envelope

    def end(self, conversation: Conversation, reason: str) -> list[dict[str, Any]]:
        """Active → ended with `system.shutdown` (reason) then `application.transcription_ready`; the
        envelopes to post, in order (none when it had already ended)."""
        if conversation.status == "ended":
            return []
        conversation.status = "ended"
        conversation.shutdown_reason = reason
        conversation.updated_at = now_iso()
        persona = self.personas.get(conversation.persona_id or "")
        greeting = (
            conversation.request.get("custom_greeting") if isinstance(conversation.request, dict) else None
        )
        transcript = [
            {"role": "system", "content": str(persona.doc.get("system_prompt") or "") if persona else ""},
            {"role": "assistant", "content": str(greeting or "Hi! What would you like to see?")},
            {"role": "user", "content": "Can you show me around?"},
        ]
        replica = {"replica_id": conversation.replica_id}
        return [
            self.event(conversation, "system.shutdown", {**replica, "shutdown_reason": reason}),
            self.event(
                conversation, "application.transcription_ready", {**replica, "transcript": transcript}
            ),
        ]

    # --- background work --------------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        """The client for callbacks and tool deliveries, made in the server's loop on first use. It ignores
        proxy variables: its targets are usually on this machine."""
        if self._http is None:
            self._http = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._http

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for every background delivery started so far (and those they start)."""
        async with asyncio.timeout(timeout_s):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop background deliveries and close the outbound client (the app's shutdown hook)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    # --- reporting --------------------------------------------------------------------------------

    def config_json(self) -> dict[str, Any]:
        return {
            "api_key": self.api_key,
            "max_concurrent": self.max_concurrent,
            "persona_envelope": self.persona_envelope,
        }

    def state_json(self) -> dict[str, Any]:
        """Everything, unmasked: what `GET /__fake/state` answers."""
        return copy.deepcopy(
            {
                "config": self.config_json(),
                "personas": [self.persona_json(p) for p in self.personas.values()],
                "conversations": [
                    {
                        **c.to_json(verbose=True),
                        "request": c.request,
                        "test_mode": c.test_mode,
                        "deleted": c.deleted,
                    }
                    for c in self.conversations.values()
                ],
                "tools": list(self.tools.values()),
                "attachments": self.attachments,
                "callbacks": self.callbacks,
                "tool_calls": self.tool_calls,
                "rooms": {
                    cid: {"messages": room.messages, "heard": room.heard} for cid, room in self.rooms.items()
                },
                "requests": self.requests,
                "faults": [f.to_json() for f in self.faults.active()],
                "seq": self.seq,
            }
        )
