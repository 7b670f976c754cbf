"""Personas (`/v2/personas`, the legacy names) and PALs (`/v2/pals`, the 2026 names): one object under two
names, so `persona_id == pal_id`, `persona_name == pal_name`, `default_replica_id == default_face_id`.

- GET of one: a bare object by default, which is what clients in the wild read; the docs' schema wraps it as
  `{"data": [persona]}`. `FakeTavus.persona_envelope` ("bare" | "data", switchable at run time through
  `PUT /__fake/config`) picks, so a client can be tested against both.
- PATCH: an RFC 6902 JSON Patch array applied (with `jsonpatch`) to the document GET returns. A malformed
  patch or an operation that cannot apply: 422 `{"message": "Invalid JSON patch format"}`; a failing `test`:
  409 `{"message": "JSON patch test failed"}`; either way nothing changes (the patch is atomic). No change:
  304 with an empty body. The ids and created_at are read-only (422); updated_at is the fake's. A changed
  alias wins over its unchanged twin (patching `/pal_name` renames `persona_name` too). `value: null` may be
  left out of add/replace/test (the SDK drops it). The result must still be a valid persona: inline tools
  (`layers.llm.tools`) in the OpenAI function shape, `tool_ids` naming existing tools (patching `/tool_ids`
  attaches / detaches registry tools).
- Registry tools attached to a PAL: `GET|POST /v2/pals/{id}/tools/`, `DELETE /v2/pals/{id}/tools/{tool_id}`
  (the same under /v2/personas)."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
from litestar import Request, Response, delete, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from fake_tavus.fake import ALIASES, FakeTavus, Persona, mask_tool, new_persona_id, now_iso
from fake_tavus.validation import MAX_PERSONA_TOOLS, check_persona_fields
from fake_tavus.web import Invalid, empty, error, ok, page_of, read_json

_READ_ONLY = ("persona_id", "pal_id", "created_at")
_MISSING = object()
_OPS = ("add", "remove", "replace", "move", "copy", "test")


def _to_doc(document: dict[str, Any]) -> dict[str, Any]:
    """A rendered persona (or a create body) → the stored document: legacy names, no managed fields."""
    doc = copy.deepcopy(document)
    for legacy, new in ALIASES:
        value = doc.pop(new, None)
        if doc.get(legacy) is None and value is not None:
            doc[legacy] = value
    for key in ("persona_id", "created_at", "updated_at", "tool_ids"):
        doc.pop(key, None)
    return {k: v for k, v in doc.items() if v is not None}


def _reconcile(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Make each alias pair agree again after a patch: the member the patch changed wins."""
    for legacy, new in ALIASES:
        old = before.get(legacy, _MISSING)
        changed = [v for v in (after.get(legacy, _MISSING), after.get(new, _MISSING)) if v != old]
        value = changed[0] if changed else old
        for key in (legacy, new):
            if value is _MISSING:
                after.pop(key, None)
            else:
                after[key] = value


def _normalize_ops(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise Invalid("Invalid JSON patch format")
    ops = []
    for op in body:
        if not isinstance(op, dict) or op.get("op") not in _OPS or not isinstance(op.get("path"), str):
            raise Invalid("Invalid JSON patch format")
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            op = {**op, "value": None}  # the SDK drops `"value": null` from its operations
        ops.append(op)
    return ops


async def _create(fake: FakeTavus, request: Request[Any, Any, Any], pal: bool) -> Response[Any]:
    try:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise Invalid("Invalid request body")
        doc = _to_doc(body)
        doc.setdefault("pipeline_mode", "full")
        tool_ids = check_persona_fields({**doc, "tool_ids": body.get("tool_ids")}, fake.tools)
        if doc["pipeline_mode"] == "full" and not doc.get("system_prompt"):
            raise Invalid("system_prompt is required when pipeline_mode is full")
    except Invalid as exc:
        return error(400, str(exc))
    persona = Persona(persona_id=new_persona_id(), doc=doc)
    fake.personas[persona.persona_id] = persona
    fake.attachments[persona.persona_id] = tool_ids or []
    name = doc.get("persona_name")
    if pal:
        answer = {"pal_id": persona.persona_id, "persona_id": persona.persona_id, "pal_name": name}
    else:
        answer = {"persona_id": persona.persona_id, "persona_name": name}
    return ok({**answer, "created_at": persona.created_at})


def _list(fake: FakeTavus, request: Request[Any, Any, Any]) -> Response[Any]:
    rows = list(reversed(fake.personas.values()))  # newest first
    try:
        page = page_of(request, rows, default_limit=10)
    except Invalid as exc:
        return error(400, str(exc))
    return ok({"data": [fake.persona_json(p) for p in page], "total_count": len(rows)})


def _get(fake: FakeTavus, persona_id: str) -> Response[Any]:
    persona = fake.personas.get(persona_id)
    if persona is None:
        return error(400, "Invalid persona_id")
    document = fake.persona_json(persona)
    return ok({"data": [document]} if fake.persona_envelope == "data" else document)


async def _patch(fake: FakeTavus, persona_id: str, request: Request[Any, Any, Any]) -> Response[Any]:
    persona = fake.personas.get(persona_id)
    if persona is None:
        return error(400, "Invalid persona_id")
    try:
        ops = _normalize_ops(await read_json(request))
    except Invalid:
        return error(422, "Invalid JSON patch format", key="message")
    before = fake.persona_json(persona)
    try:
        after = jsonpatch.apply_patch(copy.deepcopy(before), ops)
    except jsonpatch.JsonPatchTestFailed:
        return error(409, "JSON patch test failed", key="message")
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, ValueError):
        return error(422, "Invalid JSON patch format", key="message")
    if not isinstance(after, dict):
        return error(422, "Invalid JSON patch format", key="message")
    for key in _READ_ONLY:
        if after.get(key, _MISSING) != before[key]:
            return error(422, f"{key} cannot be changed", key="message")
    after["updated_at"] = before["updated_at"]
    _reconcile(before, after)
    if after == before:
        return empty(304)
    try:
        doc = _to_doc(after)
        tool_ids = check_persona_fields({**doc, "tool_ids": after.get("tool_ids")}, fake.tools)
    except Invalid as exc:
        return error(422, str(exc), key="message")
    persona.doc = doc
    persona.updated_at = now_iso()
    fake.attachments[persona_id] = tool_ids or []
    return ok(fake.persona_json(persona))


def _delete(fake: FakeTavus, persona_id: str) -> Response[Any]:
    if fake.personas.pop(persona_id, None) is None:
        return error(400, "Invalid persona_id")
    fake.attachments.pop(persona_id, None)
    return empty(204)


def _list_tools(fake: FakeTavus, persona_id: str) -> Response[Any]:
    if persona_id not in fake.personas:
        return error(400, "Invalid persona_id")
    ids = fake.attachments.get(persona_id, [])
    return ok({"data": [mask_tool(fake.tools[t]) for t in ids if t in fake.tools]})


async def _attach(fake: FakeTavus, persona_id: str, request: Request[Any, Any, Any]) -> Response[Any]:
    """Idempotent: attaching an attached tool again changes nothing; the answer lists the requested tools."""
    if persona_id not in fake.personas:
        return error(400, "Invalid persona_id")
    try:
        body = await read_json(request)
    except Invalid as exc:
        return error(400, str(exc))
    tool_ids = body.get("tool_ids") if isinstance(body, dict) else None
    if not isinstance(tool_ids, list) or not tool_ids or not all(isinstance(t, str) and t for t in tool_ids):
        return error(400, "tool_ids must be a non-empty list of tool ids")
    if len(tool_ids) > MAX_PERSONA_TOOLS:
        return error(400, f"cannot attach more than {MAX_PERSONA_TOOLS} tools at once")
    unknown = [t for t in tool_ids if t not in fake.tools]
    if unknown:
        return error(400, f"Invalid tool_id {unknown[0]}")
    attached = fake.attachments.setdefault(persona_id, [])
    merged = list(dict.fromkeys([*attached, *tool_ids]))
    if len(merged) > MAX_PERSONA_TOOLS:
        return error(400, f"a PAL can have at most {MAX_PERSONA_TOOLS} tools")
    attached[:] = merged
    return ok({"data": [mask_tool(fake.tools[t]) for t in dict.fromkeys(tool_ids)]})


def _detach(fake: FakeTavus, persona_id: str, tool_id: str) -> Response[Any]:
    if persona_id not in fake.personas:
        return error(400, "Invalid persona_id")
    attached = fake.attachments.get(persona_id, [])
    if tool_id not in attached:
        return error(404, "Tool not attached")
    attached.remove(tool_id)
    return empty(204)


def _routes(fake: FakeTavus, base: str, pal: bool) -> list[HTTPRouteHandler]:
    """The routes under one name family (`/v2/personas` or `/v2/pals`)."""
    one = base + "/{persona_id:str}"

    @post(base, status_code=200, name=f"{base}:create")
    async def create(request: Request[Any, Any, Any]) -> Response[Any]:
        return await _create(fake, request, pal)

    @get(base, name=f"{base}:list")
    async def list_personas(request: Request[Any, Any, Any]) -> Response[Any]:
        return _list(fake, request)

    @get(one, name=f"{base}:get")
    async def get_persona(persona_id: FromPath[str]) -> Response[Any]:
        return _get(fake, persona_id)

    @patch(one, status_code=200, name=f"{base}:patch")
    async def patch_persona(persona_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        return await _patch(fake, persona_id, request)

    @delete(one, status_code=200, name=f"{base}:delete")
    async def delete_persona(persona_id: FromPath[str]) -> Response[Any]:
        return _delete(fake, persona_id)

    @get(one + "/tools", name=f"{base}:tools")
    async def list_tools(persona_id: FromPath[str]) -> Response[Any]:
        return _list_tools(fake, persona_id)

    @post(one + "/tools", status_code=200, name=f"{base}:attach")
    async def attach(persona_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        return await _attach(fake, persona_id, request)

    @delete(one + "/tools/{tool_id:str}", status_code=200, name=f"{base}:detach")
    async def detach(persona_id: FromPath[str], tool_id: FromPath[str]) -> Response[Any]:
        return _detach(fake, persona_id, tool_id)

    return [create, list_personas, get_persona, patch_persona, delete_persona, list_tools, attach, detach]


def make_persona_handlers(fake: FakeTavus) -> list[HTTPRouteHandler]:
    return [*_routes(fake, "/v2/personas", pal=False), *_routes(fake, "/v2/pals", pal=True)]
