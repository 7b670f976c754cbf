"""What Tavus checks in tools and personas, written out by hand so the fake refuses what the real service
refuses without depending on the SDK it is meant to test.

Registry tools (`POST/PATCH /v2/tools`) follow the official SDK's `ToolCreate`/`ToolUpdate` models (tavus-cli
0.11.0 `sdk/schemas/tool.py`), message for message, with ONE deliberate difference: `delivery.api.url` (and an
oauth2 `token_url`) may be plain `http://` on a loopback host (127.0.0.0/8, ::1, localhost), so a tool can
call a relay running on the developer's machine. Real Tavus requires public https. Unknown fields are
refused (the SDK's models forbid extras). Inline tools (`layers.llm.tools`) must have the documented OpenAI
function shape."""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from fake_tavus.fake import MASK
from fake_tavus.web import Invalid

MAX_TOOL_SIZE = 10000
MAX_PERSONA_TOOLS = 50
TOOL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
RESERVED_PREFIX = "tavus_"
ORIGINS = ("llm", "vision", "audio")
ON_CALL = ("generate_filler", "static_filler", "silent", "passthrough")
ON_RESOLVE = ("generate_response", "response_in_result", "add_to_context", "fire_and_forget")
TRIGGER_TYPES = ("in_call", "post_call")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
BODYLESS = ("GET", "HEAD", "DELETE")
PIPELINE_MODES = ("full", "echo", "speech-to-speech")

TOOL_FIELDS = (
    "name",
    "description",
    "parameters",
    "delivery",
    "origin",
    "on_call",
    "on_resolve",
    "static_filler",
    "tags",
    "trigger_type",
)
_API_FIELDS = ("url", "method", "timeout", "headers", "auth", "body_template", "query_params", "content_type")
# auth type -> (required string fields, optional fields)
_AUTH: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "none": ((), ()),
    "bearer": (("token",), ()),
    "basic": (("username", "password"), ()),
    "api_key": (("name", "value"), ("location",)),
    "hmac": (("secret",), ()),
    "oauth2_client_credentials": (("token_url", "client_id", "client_secret"), ("scope",)),
}
AUTH_SECRET = {
    "bearer": "token",
    "basic": "password",
    "api_key": "value",
    "hmac": "secret",
    "oauth2_client_credentials": "client_secret",
}


def is_loopback_http(url: str) -> bool:
    """`http://127.0.0.1…`, `http://localhost…`, `http://[::1]…`: the fake's one exception to https."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or not parts.hostname:
        return False
    if parts.hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _https_or_loopback(url: str) -> bool:
    return url.lower().startswith("https://") or is_loopback_http(url)


def _str_map(value: Any, what: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise Invalid(f"{what} must be an object of strings")
    return dict(value)


def _check_auth(auth: Any) -> dict[str, Any] | None:
    if auth is None:
        return None
    if not isinstance(auth, dict) or auth.get("type") not in _AUTH:
        raise Invalid(f"delivery.api.auth.type must be one of {', '.join(_AUTH)}")
    kind = str(auth["type"])
    required, optional = _AUTH[kind]
    extra = sorted(set(auth) - {"type", *required, *optional})
    if extra:
        raise Invalid(f"delivery.api.auth ({kind}) has unknown field(s) {extra}")
    for name in required:
        if not isinstance(auth.get(name), str) or not auth[name]:
            raise Invalid(f"delivery.api.auth.{name} is required for auth type {kind}")
    out = {k: v for k, v in auth.items() if v is not None}
    if kind == "api_key":
        out.setdefault("location", "header")
        if out["location"] not in ("header", "query"):
            raise Invalid("delivery.api.auth.location must be header or query")
    if kind == "oauth2_client_credentials":
        if not _https_or_loopback(out["token_url"]):
            raise Invalid("auth.token_url must be https://")
        if "scope" in out and not isinstance(out["scope"], str):
            raise Invalid("delivery.api.auth.scope must be a string")
    return out


def _check_api(api: Any) -> dict[str, Any]:
    if not isinstance(api, dict):
        raise Invalid("delivery.api must be an object")
    extra = sorted(set(api) - set(_API_FIELDS))
    if extra:
        raise Invalid(f"delivery.api has unknown field(s) {extra}")
    url = api.get("url")
    if not isinstance(url, str) or not url:
        raise Invalid("delivery.api.url is required")
    if not _https_or_loopback(url):
        raise Invalid("delivery.api.url must be https:// (this fake also allows http:// on a loopback host)")
    method = api.get("method") if api.get("method") is not None else "POST"
    if method not in METHODS:
        raise Invalid(f"delivery.api.method must be one of {', '.join(METHODS)}")
    timeout = api.get("timeout") if api.get("timeout") is not None else 10.0
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60:
        raise Invalid("delivery.api.timeout must be a number in (0, 60] seconds (default 10)")
    headers = _str_map(api.get("headers"), "delivery.api.headers")
    query_params = _str_map(api.get("query_params"), "delivery.api.query_params")
    body_template = api.get("body_template")
    if body_template is not None and not isinstance(body_template, dict):
        raise Invalid("delivery.api.body_template must be an object")
    content_type = api.get("content_type")
    if content_type is not None and not isinstance(content_type, str):
        raise Invalid("delivery.api.content_type must be a string")
    if body_template is not None and method in BODYLESS:
        raise Invalid(
            f"method {method} does not send a request body; "
            "remove body_template or change method to POST/PUT/PATCH"
        )
    raw_auth = api.get("auth")
    if isinstance(raw_auth, dict) and raw_auth.get("type") in AUTH_SECRET:
        secret_field = AUTH_SECRET[str(raw_auth["type"])]
        if raw_auth.get(secret_field) == MASK:
            raise Invalid(
                f"delivery.api.auth.{secret_field} looks like the scrub placeholder "
                "echoed from a GET response; omit it to keep the existing secret"
            )
    auth = _check_auth(raw_auth)
    if auth is not None and auth["type"] == "hmac":
        conflicts = [
            name
            for name, present in (
                ("body_template", bool(body_template)),
                ("query_params", bool(query_params)),
                ("url placeholders", bool(PLACEHOLDER_RE.search(url))),
            )
            if present
        ]
        if conflicts:
            raise Invalid(f"auth.type=hmac ignores {conflicts}; remove these fields or switch auth type")
    out: dict[str, Any] = {"url": url, "method": method, "timeout": float(timeout)}
    optional = {
        "headers": headers,
        "auth": auth,
        "body_template": body_template,
        "query_params": query_params,
        "content_type": content_type,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def _check_delivery(delivery: Any) -> dict[str, Any]:
    if not isinstance(delivery, dict):
        raise Invalid("delivery must be an object")
    extra = sorted(set(delivery) - {"app_message", "api"})
    if extra:
        raise Invalid(f"delivery has unknown field(s) {extra}")
    app_message = delivery.get("app_message")
    if app_message is not None and not isinstance(app_message, bool):
        raise Invalid("delivery.app_message must be a boolean")
    has_api = delivery.get("api") is not None
    if app_message is True and has_api:
        raise Invalid(
            "delivery must enable exactly one channel: set delivery.app_message=true "
            "OR include delivery.api, not both"
        )
    if app_message is not True and not has_api:
        raise Invalid("delivery must enable a channel: set delivery.app_message=true or include delivery.api")
    return {"api": _check_api(delivery["api"])} if has_api else {"app_message": True}


def placeholders(value: Any) -> set[str]:
    """`{ident}` names in a string, or in every string of a JSON value."""
    if isinstance(value, str):
        return set(PLACEHOLDER_RE.findall(value))
    if isinstance(value, dict):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def _declared(parameters: Mapping[str, Any]) -> set[str]:
    properties = parameters.get("properties")
    return {k for k in properties if isinstance(k, str)} if isinstance(properties, dict) else set()


def check_tool(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A complete tool (create body with defaults, or a stored tool with an update applied), normalized as
    Tavus stores it (delivery defaults filled in); raises `Invalid` with the SDK's message otherwise."""
    extra = sorted(set(fields) - set(TOOL_FIELDS))
    if extra:
        raise Invalid(f"unknown field(s) {extra}")
    name = fields.get("name")
    if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
        raise Invalid(
            "name must start with a letter or underscore and contain only letters, digits, and underscores "
            "(max 64 chars)"
        )
    description = fields.get("description")
    if not isinstance(description, str) or not description:
        raise Invalid("description is required")
    parameters = fields.get("parameters") if fields.get("parameters") is not None else {}
    if not isinstance(parameters, dict):
        raise Invalid("parameters must be an object")
    size = len(description) + len(json.dumps(parameters, sort_keys=True))
    if size > MAX_TOOL_SIZE:
        raise Invalid(
            f"tool spec is too large: description + parameters serialize to {size} characters, "
            f"limit is {MAX_TOOL_SIZE}"
        )
    reserved = sorted(n for n in _declared(parameters) if n.startswith(RESERVED_PREFIX))
    if reserved:
        raise Invalid(
            f"parameter names starting with '{RESERVED_PREFIX}' are reserved for Tavus system placeholders: "
            f"{reserved}"
        )
    raw_delivery = fields.get("delivery")
    delivery = _check_delivery(raw_delivery if raw_delivery is not None else {"app_message": True})
    api = delivery.get("api")
    if api is not None:
        used = (
            placeholders(api["url"])
            | placeholders(api.get("body_template"))
            | placeholders(api.get("query_params"))
        )
        missing = sorted(n for n in used - _declared(parameters) if not n.startswith(RESERVED_PREFIX))
        if missing:
            raise Invalid(
                f"delivery.api references placeholder(s) {missing} not declared in parameters.properties "
                f"(declared: {sorted(_declared(parameters))})"
            )
    origin = fields.get("origin") if fields.get("origin") is not None else "llm"
    if origin not in ORIGINS:
        raise Invalid(f"origin must be one of {', '.join(ORIGINS)}")
    on_call = fields.get("on_call")
    if on_call is not None and on_call not in ON_CALL:
        raise Invalid(f"on_call must be one of {', '.join(ON_CALL)}")
    on_resolve = fields.get("on_resolve", "fire_and_forget")
    if on_resolve is not None and on_resolve not in ON_RESOLVE:
        raise Invalid(f"on_resolve must be one of {', '.join(ON_RESOLVE)}")
    static_filler = fields.get("static_filler")
    if static_filler is not None and not isinstance(static_filler, str):
        raise Invalid("static_filler must be a string")
    tags = fields.get("tags") if fields.get("tags") is not None else []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise Invalid("tags must be a list of strings")
    trigger_type = fields.get("trigger_type") if fields.get("trigger_type") is not None else "in_call"
    if trigger_type not in TRIGGER_TYPES:
        raise Invalid(f"trigger_type must be one of {', '.join(TRIGGER_TYPES)}")
    if origin == "llm":
        if on_call == "static_filler" and not static_filler:
            raise Invalid("static_filler is required when on_call='static_filler'")
    else:
        if on_call is not None:
            raise Invalid(f"on_call must be null for {origin} tools")
        if on_resolve not in (None, "fire_and_forget"):
            raise Invalid(f"on_resolve must be 'fire_and_forget' for {origin} tools")
        if static_filler is not None:
            raise Invalid(f"static_filler must be null for {origin} tools")
    return {
        "name": name,
        "description": description,
        "parameters": copy.deepcopy(parameters),
        "delivery": delivery,
        "trigger_type": trigger_type,
        "origin": origin,
        "on_call": on_call,
        "on_resolve": on_resolve,
        "static_filler": static_filler,
        "tags": list(tags),
    }


def tool_update(stored: Mapping[str, Any], body: Any) -> dict[str, Any]:
    """A field replace (`PATCH /v2/tools/{id}`, not JSON Patch): the given fields replace the stored ones;
    an auth secret left out keeps the stored secret (when the auth type is unchanged); then the whole result
    is checked like a new tool."""
    if not isinstance(body, dict):
        raise Invalid("body must be an object of the fields to replace")
    merged = {k: copy.deepcopy(stored[k]) for k in TOOL_FIELDS if k in stored}
    for key, value in body.items():
        if value is None and key in ("name", "description", "parameters", "delivery", "origin", "tags"):
            raise Invalid(f"{key} must not be null")
        merged[key] = copy.deepcopy(value)
    api = merged.get("delivery", {}).get("api") if isinstance(merged.get("delivery"), dict) else None
    auth = api.get("auth") if isinstance(api, dict) else None
    old_api = stored["delivery"].get("api") or {}
    old_auth = old_api.get("auth") or {}
    if (
        isinstance(auth, dict)
        and auth.get("type") in AUTH_SECRET
        and auth.get("type") == old_auth.get("type")
    ):
        secret_field = AUTH_SECRET[str(auth["type"])]
        if secret_field not in auth and secret_field in old_auth:
            auth[secret_field] = old_auth[secret_field]
    return check_tool(merged)


def check_inline_tools(layers: Any) -> None:
    """`layers.llm.tools`, when present: a list of `{"type": "function", "function": {"name", "description",
    "parameters": {"type": "object", ...}}}` (docs: persona/llm-tool), names unique."""
    if layers is None:
        return
    if not isinstance(layers, dict):
        raise Invalid("layers must be an object")
    llm = layers.get("llm")
    if llm is None:
        return
    if not isinstance(llm, dict):
        raise Invalid("layers.llm must be an object")
    tools = llm.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise Invalid("layers.llm.tools must be a list")
    names: set[str] = set()
    for index, entry in enumerate(tools):
        where = f"layers.llm.tools[{index}]"
        if not isinstance(entry, dict) or entry.get("type") != "function":
            raise Invalid(f'{where}.type must be "function"')
        function = entry.get("function")
        if not isinstance(function, dict):
            raise Invalid(f"{where}.function must be an object")
        name = function.get("name")
        if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
            raise Invalid(f"{where}.function.name must be a function name")
        if name in names:
            raise Invalid(f"{where}.function.name {name!r} is used twice")
        names.add(name)
        if not isinstance(function.get("description"), str):
            raise Invalid(f"{where}.function.description must be a string")
        parameters = function.get("parameters")
        if not isinstance(parameters, dict) or parameters.get("type") != "object":
            raise Invalid(f'{where}.function.parameters must be an object schema ("type": "object")')


def check_persona_fields(doc: Mapping[str, Any], known_tools: Mapping[str, Any]) -> list[str] | None:
    """A persona document (create body or patch result): pipeline mode, layers and inline tools, and the
    registry `tool_ids` (each existing, at most 50); the tool ids when the document names them."""
    mode = doc.get("pipeline_mode", "full")
    if mode not in PIPELINE_MODES:
        raise Invalid(f"pipeline_mode must be one of {', '.join(PIPELINE_MODES)}")
    for key in ("persona_name", "system_prompt", "context", "default_replica_id"):
        value = doc.get(key)
        if value is not None and not isinstance(value, str):
            raise Invalid(f"{key} must be a string")
    check_inline_tools(doc.get("layers"))
    tool_ids = doc.get("tool_ids")
    if tool_ids is None:
        return None
    if not isinstance(tool_ids, list) or not all(isinstance(t, str) and t for t in tool_ids):
        raise Invalid("tool_ids must be a list of tool ids")
    unique = list(dict.fromkeys(tool_ids))
    if len(unique) > MAX_PERSONA_TOOLS:
        raise Invalid(f"a persona can have at most {MAX_PERSONA_TOOLS} tools")
    unknown = [t for t in unique if t not in known_tools]
    if unknown:
        raise Invalid(f"Invalid tool_id {unknown[0]}")
    return unique
