"""What the OpenAPI document states beyond the routes' types: the error answers each route documents, all in
our one error shape (what a client of the route must be ready for, by status); the security schemes (who
may call what); and the rules that depend on configuration (the hosts a conversation_url may name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Components, Schema, SecurityScheme

from demo_relay.entrypoints.http.schemas import ErrorOut

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.openapi.spec import OpenAPI

_MEANING = {
    400: "malformed JSON or a body of the wrong shape",
    401: "no proof, or a wrong one",
    403: "a token that is not valid here (`invalid_token`), or a signed-in user who is not an owner "
    "(`forbidden`)",
    404: "no such demo, conversation or video",
    409: "the conversation belongs to another demo (`conversation_conflict`) or has ended "
    "(`conversation_ended`); the demo already has a video of that title (`title_conflict`); the upload is "
    "listed already (`already_listed`); the Tavus integration is off or the demo has no persona "
    "(`tavus_not_configured`)",
    413: "the body is too large (`payload_too_large`; an upload: `video_too_large`)",
    415: "the file is not an MP4, QuickTime or WebM video, whatever its name says",
    422: "a field that cannot be accepted (named in `field`); Tavus refused the request (`tavus_rejected`)",
    429: "too many requests from this client, or no free conversation slot (`tavus_capacity`); see "
    "Retry-After",
    502: "an upstream service (Storage, Realtime, Tavus) is unavailable (`tavus_unavailable`) or refused "
    "our key (`tavus_unauthorized`); retry later",
    503: "the database is unavailable (see Retry-After)",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(data_container=ErrorOut, description=_MEANING[status], generate_examples=False)
        for status in statuses
    }


# --- who may call what ----------------------------------------------------------------------------------

SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "ownerToken": SecurityScheme(
        type="http",
        scheme="bearer",
        description="An owner token (ADMIN_TOKEN): manages demos, mints viewer links, opens any session.",
    ),
    "sessionToken": SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="A session token (from POST /api/demos/{demo_id}/sessions): one conversation of one "
        "demo, read-only on the hub; forwards that conversation's tool calls.",
    ),
    "tavusSignature": SecurityScheme(
        type="apiKey",
        name="X-Tavus-Signature",
        security_scheme_in="header",
        description="Tavus's HMAC-SHA256 of the body (with X-Tavus-Timestamp), keyed by "
        "TAVUS_WEBHOOK_SECRET.",
    ),
    "standardWebhooks": SecurityScheme(
        type="apiKey",
        name="webhook-signature",
        security_scheme_in="header",
        description="Standard Webhooks: `v1,<base64 HMAC>` over webhook-id.webhook-timestamp.body.",
    ),
    "webhookUrlToken": SecurityScheme(
        type="apiKey",
        name="token",
        security_scheme_in="query",
        description="The webhook URL's token (lifecycle callbacks; only with WEBHOOK_ALLOW_URL_TOKEN=true).",
    ),
}
COMPONENTS = Components(security_schemes=SECURITY_SCHEMES)  # type: ignore[arg-type]

Requirements = list[dict[str, list[str]]]  # OpenAPI security requirements: any one of them will do
OWNER: Requirements = [{"ownerToken": []}]
SESSION: Requirements = [{"sessionToken": []}]
# A viewer's session carries its viewer link's grant in the body instead of an owner token.
OWNER_OR_GRANT: Requirements = [{"ownerToken": []}, {}]
# Anyone may start a conversation of a demo whose public_start is on; owners always.
OWNER_OR_PUBLIC: Requirements = [{"ownerToken": []}, {}]
OWNER_OR_SESSION: Requirements = [{"ownerToken": []}, {"sessionToken": []}]
TAVUS: Requirements = [{"tavusSignature": []}, {"standardWebhooks": []}, {"webhookUrlToken": []}]


# --- rules the configuration decides ----------------------------------------------------------------------


def state_conversation_url_rule(app: Litestar, pattern: str) -> None:
    """Write the configured host rule (`conversation_url_pattern(CONVERSATION_URL_HOSTS)`) into the schema of
    every body that has a `conversation_url`, so the document states the rule the server enforces (422)."""
    document: OpenAPI = app.openapi_schema
    schemas = (document.components.schemas if document.components else None) or {}
    for schema in schemas.values():
        field = (schema.properties or {}).get("conversation_url") if isinstance(schema, Schema) else None
        if not isinstance(field, Schema):
            continue
        for branch in field.one_of or [field]:
            if isinstance(branch, Schema) and branch.type == "string":
                branch.pattern = pattern
                branch.description = "An https URL on a host of CONVERSATION_URL_HOSTS: the page frames it."
