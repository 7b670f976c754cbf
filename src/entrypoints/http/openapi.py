"""The error answers each route documents in the OpenAPI document, all in our one error shape: what a
client of the route must be ready for, by status."""

from __future__ import annotations

from litestar.openapi import ResponseSpec

from demo_relay.entrypoints.http.schemas import ErrorOut

_MEANING = {
    400: "malformed JSON or a body of the wrong shape",
    401: "no proof, or a wrong one",
    403: "a token that is not valid here",
    404: "no such demo, conversation or video",
    409: "the conversation belongs to another demo (`conversation_conflict`) or has ended "
    "(`conversation_ended`)",
    413: "the body is too large",
    422: "a field that cannot be accepted (named in `field`)",
    429: "too many requests from this client (see Retry-After)",
    502: "an upstream service (Storage, Realtime) is unavailable; retry later",
    503: "the database is unavailable (see Retry-After)",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(data_container=ErrorOut, description=_MEANING[status], generate_examples=False)
        for status in statuses
    }
