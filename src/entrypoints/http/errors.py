"""One map from errors to JSON responses. Clients get `{"error": <code>, "message": …}`
plus the error's details; never a stack trace. Unexpected exceptions are logged here, once."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from demo_relay.domain import errors

log = logging.getLogger("demo_relay.http")

# Most specific first: the first class an error is an instance of decides the status.
STATUS_BY_ERROR: tuple[tuple[type[errors.DomainError], int], ...] = (
    # Who is asking, and may they.
    (errors.AuthenticationFailed, 401),
    (errors.Unauthorized, 401),
    (errors.InvalidToken, 403),
    (errors.Forbidden, 403),
    # The request itself: the caller must change it (Tavus's agent can act on 422 and 404).
    (errors.PayloadTooLarge, 413),
    (errors.VideoTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.MalformedJson, 400),
    (errors.MalformedRequest, 400),
    (errors.InvalidArguments, 422),
    (errors.InvalidRequest, 422),
    (errors.NotFound, 404),
    (errors.ConversationConflict, 409),
    (errors.ConversationEnded, 409),
    (errors.TitleConflict, 409),
    (errors.AlreadyListed, 409),
    (errors.AgentNotConfigured, 409),
    (errors.AgentRejected, 422),
    (errors.AgentCapacity, 429),
    # Something we depend on: the same request may succeed later. Our database is ours to bring back
    # (503, with Retry-After); Storage and Realtime are upstream services (502).
    (errors.DatabaseUnavailable, 503),
    (errors.StorageUnavailable, 502),
    (errors.TransportUnavailable, 502),
    (errors.AgentUnavailable, 502),
    (errors.AgentUnauthorized, 502),
    (errors.Unavailable, 503),
)
RETRY_AFTER_S = "5"

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def status_of(exc: errors.DomainError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(
    status: int, code: str, message: str, *, retry_after_s: int | None = None, **extra: Any
) -> Response[Any]:
    headers = {"Retry-After": RETRY_AFTER_S} if status == 503 else {}
    if retry_after_s is not None:
        headers["Retry-After"] = str(retry_after_s)
    return Response(
        {"error": code, "message": message, **extra},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


# What a client learns of an outage: which dependency, never its error class, address or errno (those go to
# our log, where an operator needs them).
_OUTAGE_MESSAGES = {
    errors.DatabaseUnavailable.code: "the database is unavailable; retry later",
    errors.StorageUnavailable.code: "video storage is unavailable; retry later",
    errors.TransportUnavailable.code: "the realtime transport is unavailable; retry later",
    errors.AgentUnavailable.code: "Tavus cannot be reached right now; retry later",
    errors.AgentUnauthorized.code: "Tavus refused this service's API key: the owner must fix TAVUS_API_KEY",
}


def domain_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, errors.DomainError)
    status = status_of(exc)
    if status >= 500:
        log.warning("request failed: %s (%s)", exc.code, exc.message)
        message = _OUTAGE_MESSAGES.get(exc.code, "a service this request needs is unavailable; retry later")
        return error_response(status, exc.code, message)
    if isinstance(exc, errors.AgentCapacity):
        return error_response(status, exc.code, exc.message, retry_after_s=exc.retry_after_s, **exc.details)
    return error_response(status, exc.code, exc.message, **exc.details)


def http_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Litestar's own errors (routing, body limits, parameter validation) in our JSON shape."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if isinstance(exc, ValidationException):
        return error_response(400, "invalid_request", "the request is not valid", problems=_problems(exc))
    if status >= 500:
        log.error("internal error: %s", exc.detail)
        return error_response(500, "internal_error", "internal error")
    response = error_response(status, _HTTP_CODES.get(status, "error"), str(exc.detail))
    # Litestar's own headers stay: 405's Allow (RFC 9110 requires it), a rate limit's RateLimit-*.
    response.headers.update(exc.headers or {})
    if status == 429:  # and when to come back
        response.headers["Retry-After"] = str(max(1, int((exc.headers or {}).get("RateLimit-Reset", "1"))))
    return response


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal error")


def _problems(exc: ValidationException) -> list[Any]:
    extra = exc.extra
    if isinstance(extra, list):
        return [
            {k: v for k, v in item.items() if k in ("key", "message", "source")}
            for item in extra
            if isinstance(item, dict)
        ]
    return []


EXCEPTION_HANDLERS = {
    errors.DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
