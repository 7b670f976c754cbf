"""A local, protocol-faithful Tavus API (conversations, personas/PALs, the tools registry) for tests and
local trials, checked by the official SDK (tavus-cli's `tavus_mcp.sdk`). A development tool: never shipped
in the product.

Start it in-process with `create_fake_tavus(...)` (an ASGI app and its `FakeTavus` state) or as a server
with `serve(host, port, ...)` / `fake-tavus` / `python -m fake_tavus`. What each part copies from the real
service, and what it leaves out, is in the docstrings of `conversations`, `personas`, `tools`, `outbound`
and `validation`; the agent's part (tool calls, the Daily room) and fault injection are driven through the
HTTP control endpoints in `control` (and `faults`)."""

from fake_tavus.app import banner, create_fake_tavus, serve
from fake_tavus.fake import (
    DEFAULT_API_KEY,
    DEFAULT_MAX_CONCURRENT,
    MASK,
    Conversation,
    FakeTavus,
    Persona,
    PersonaEnvelope,
    PersonaSeed,
)
from fake_tavus.faults import Fault
from fake_tavus.outbound import sign

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_MAX_CONCURRENT",
    "MASK",
    "Conversation",
    "FakeTavus",
    "Fault",
    "Persona",
    "PersonaEnvelope",
    "PersonaSeed",
    "banner",
    "create_fake_tavus",
    "serve",
    "sign",
]
