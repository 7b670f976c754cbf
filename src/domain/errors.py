"""The domain's error hierarchy. Each error carries a stable wire `code`; the HTTP layer maps the classes
to statuses in one place, so nothing below the entry points knows HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    code: str = "error"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details: dict[str, Any] = details


# --- the request itself is wrong (4xx) -----------------------------------------------------------


class AuthenticationFailed(DomainError):
    code = "invalid_signature"


class StaleTimestamp(AuthenticationFailed):
    code = "stale_timestamp"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class MalformedJson(DomainError):
    code = "malformed_json"


class MalformedRequest(DomainError):
    """A body of the wrong shape (not multipart/form-data, no boundary, a broken part): 400."""

    code = "invalid_request"


class InvalidArguments(DomainError):
    code = "invalid_arguments"


class InvalidRequest(DomainError):
    """A request body or parameter that is not acceptable (not a webhook argument)."""

    code = "invalid_request"


class NotFound(DomainError):
    code = "not_found"


class UnknownDemo(NotFound):
    code = "unknown_demo"


class UnknownConversation(NotFound):
    code = "unknown_conversation"


class UnknownVideo(NotFound):
    """No video of that id in that demo (the owner API; the webhook names videos by title)."""

    code = "unknown_video"


class VideoNotFound(NotFound):
    code = "video_not_found"

    def __init__(self, title: str, suggestions: Sequence[str]) -> None:
        super().__init__(
            f"no video titled {title!r} in this demo", video_title=title, suggestions=list(suggestions)
        )


class VideoMissing(NotFound):
    """The catalog names the video but its file/object is not in storage."""

    code = "video_missing"

    def __init__(self, storage_path: str) -> None:
        super().__init__(f"the video object {storage_path!r} is missing from storage", path=storage_path)


class ConversationConflict(DomainError):
    """The conversation is registered to another demo. A conversation is never re-pointed: its videos
    must not be diverted to another demo's channel, whoever holds a proof for that other demo."""

    code = "conversation_conflict"


class ConversationEnded(DomainError):
    """The conversation has ended (Tavus ends a conversation for good): no new session is started for it."""

    code = "conversation_ended"


class AlreadyListed(DomainError):
    """The catalog names this stored object already (one row per object: deletes remove the object)."""

    code = "already_listed"

    def __init__(self, storage_path: str) -> None:
        super().__init__("this upload is listed already", field="path", path=storage_path)


class TitleConflict(DomainError):
    """The demo already has a video of that title, however cased or spaced."""

    code = "title_conflict"


class VideoTooLarge(DomainError):
    code = "video_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"a video has at most {max_bytes} bytes", max_bytes=max_bytes)


class UnsupportedMediaType(DomainError):
    """The file's bytes are not an MP4, QuickTime or WebM video (whatever its name or declared type)."""

    code = "unsupported_media_type"


class AgentCapacity(DomainError):
    """No conversation can start now: this deployment's TAVUS_MAX_CONCURRENT conversations are open, or
    Tavus answered its own concurrency limit. `retry_after_s` says when to try again."""

    code = "tavus_capacity"

    def __init__(self, message: str, retry_after_s: int = 30, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after_s = retry_after_s


class AgentRejected(DomainError):
    """Tavus refused the request itself (an unknown persona or replica, no credits): the owner must change
    the demo's settings or the account; a retry as it is will not help."""

    code = "tavus_rejected"


class AgentNotConfigured(DomainError):
    """The Tavus integration is off (no TAVUS_API_KEY), or the demo has no persona to talk with."""

    code = "tavus_not_configured"


class Forbidden(DomainError):
    """A valid identity that may not do this (a signed-in user who is not an owner)."""

    code = "forbidden"


class InvalidToken(DomainError):
    code = "invalid_token"


class Unauthorized(DomainError):
    """No proof, or a wrong one, for a route that needs an owner token or a viewer grant."""

    code = "unauthorized"


# --- something we depend on is down (5xx); a retry may succeed -----------------------------------


class Unavailable(DomainError):
    code = "unavailable"


class StorageUnavailable(Unavailable):
    code = "storage_unavailable"


class TransportUnavailable(Unavailable):
    code = "transport_unavailable"


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"


class AgentUnavailable(Unavailable):
    """Tavus cannot be reached, timed out, or answered 5xx."""

    code = "tavus_unavailable"


class AgentUnauthorized(Unavailable):
    """Tavus refused our API key (TAVUS_API_KEY): the owner must fix it, no retry helps."""

    code = "tavus_unauthorized"


class ConfigurationError(DomainError):
    """Settings that cannot work together; raised at start, never per request."""

    code = "configuration_error"
