"""The Tools registry, `/v2/tools` (docs: api-reference/tools/*; the SDK's `ToolResource`).

Names are unique per account (a second `POST` with a taken name: 409). Answers scrub auth secrets to
`********`; the fake keeps the real ones (for signing, and in `/__fake/state`). `PATCH` is a field replace
(not JSON Patch) checked like a create, see `validation`. Deleting a tool detaches it from every PAL.
`?name_or_uuid=` matches the tool id exactly or the name as a case-insensitive substring."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from fake_tavus.fake import OWNER_ID, FakeTavus, mask_tool, new_tool_id, now_iso
from fake_tavus.validation import check_tool, tool_update
from fake_tavus.web import Invalid, empty, error, ok, page_of, read_json


def _name_taken(fake: FakeTavus, name: str, tool_id: str | None = None) -> Response[Any] | None:
    if any(t["name"] == name and t["tool_id"] != tool_id for t in fake.tools.values()):
        return error(409, f"A tool named {name} already exists")
    return None


def make_tool_handlers(fake: FakeTavus) -> list[HTTPRouteHandler]:
    @post("/v2/tools", status_code=200)
    async def create(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            body = await read_json(request)
            if not isinstance(body, dict):
                raise Invalid("Invalid request body")
            fields = check_tool(body)
        except Invalid as exc:
            return error(400, str(exc))
        if (taken := _name_taken(fake, fields["name"])) is not None:
            return taken
        stamp = now_iso()
        tool = {
            "tool_id": new_tool_id(),
            "owner_id": OWNER_ID,
            **fields,
            "is_system_tool": False,
            "created_at": stamp,
            "updated_at": stamp,
        }
        fake.tools[tool["tool_id"]] = tool
        return ok(mask_tool(tool))

    @get("/v2/tools")
    async def list_tools(request: Request[Any, Any, Any]) -> Response[Any]:
        wanted = (request.query_params.get("name_or_uuid") or "").strip()
        kind = request.query_params.get("type") or "user"
        sort = request.query_params.get("sort") or "asc"
        if kind not in ("user", "system", "all") or sort not in ("asc", "desc"):
            return error(400, "type must be user|system|all and sort asc|desc")
        rows = [
            t
            for t in fake.tools.values()
            if kind != "system"
            and (not wanted or t["tool_id"] == wanted or wanted.lower() in t["name"].lower())
        ]
        if sort == "desc":
            rows.reverse()
        try:
            page = page_of(request, rows, default_limit=25)
        except Invalid as exc:
            return error(400, str(exc))
        return ok({"data": [mask_tool(t) for t in page], "total_count": len(rows)})

    @get("/v2/tools/{tool_id:str}")
    async def get_tool(tool_id: FromPath[str]) -> Response[Any]:
        tool = fake.tools.get(tool_id)
        return error(404, "Tool not found") if tool is None else ok(mask_tool(tool))

    @patch("/v2/tools/{tool_id:str}", status_code=200)
    async def patch_tool(tool_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        tool = fake.tools.get(tool_id)
        if tool is None:
            return error(404, "Tool not found")
        try:
            fields = tool_update(tool, await read_json(request, empty={}))
        except Invalid as exc:
            return error(400, str(exc))
        if (taken := _name_taken(fake, fields["name"], tool_id)) is not None:
            return taken
        tool.update(fields)
        tool["updated_at"] = now_iso()
        return ok(mask_tool(tool))

    @delete("/v2/tools/{tool_id:str}", status_code=200)
    async def delete_tool(tool_id: FromPath[str]) -> Response[Any]:
        if fake.tools.pop(tool_id, None) is None:
            return error(404, "Tool not found")
        for attached in fake.attachments.values():
            if tool_id in attached:
                attached.remove(tool_id)
        return empty(204)

    return [create, list_tools, get_tool, patch_tool, delete_tool]
