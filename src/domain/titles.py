"""The rules for video titles, shared by every place that stores or looks one up: a title is kept tidy
(whitespace runs are one space, ends trimmed), and two titles are the same title however cased or spaced.
The catalog's unique index on demo_videos uses the same key (lower-cased, whitespace collapsed)."""

from __future__ import annotations

import math

from demo_relay.domain.errors import InvalidRequest

MAX_TITLE_CHARS = 200
# A name or title as JSON Schema can state it: no NUL, and at least one character that is not whitespace
# as Python's str.split() reads whitespace (tidy_title's rule; ECMA's \s differs: \x1c-\x1f, \x85, \ufeff).
_PY_WHITESPACE = (
    "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NON_BLANK_PATTERN = f"^[^\\x00]*[^\\x00{_PY_WHITESPACE}][^\\x00]*$"


def tidy_title(title: str) -> str:
    return " ".join(title.split())


def title_key(title: str) -> str:
    """What makes two titles the same title."""
    return tidy_title(title).lower()


def checked_name(name: str) -> str:
    """A demo's tidy name (the same rules as a title: whitespace runs are one space, ends trimmed, not
    blank, at most MAX_TITLE_CHARS, no NUL); InvalidRequest names the field otherwise."""
    tidy = tidy_title(name)
    if not tidy:
        raise InvalidRequest("a demo needs a name", field="name")
    if len(tidy) > MAX_TITLE_CHARS or "\x00" in tidy:
        raise InvalidRequest(f"a demo name has 1 to {MAX_TITLE_CHARS} characters, no NUL", field="name")
    return tidy


def checked_video(title: str, storage_path: str, duration_s: float | None) -> str:
    """The tidy title of a video about to be listed; InvalidRequest names the field that cannot be."""
    tidy = tidy_title(title)
    if not tidy:
        raise InvalidRequest("a video needs a title", field="title")
    if len(tidy) > MAX_TITLE_CHARS:
        raise InvalidRequest(f"a title has at most {MAX_TITLE_CHARS} characters", field="title")
    if "\x00" in tidy:
        raise InvalidRequest("a title cannot hold a NUL character", field="title")
    if not storage_path.strip():
        raise InvalidRequest("a video needs a storage path", field="storage_path")
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s > 0):
        raise InvalidRequest("duration_s must be positive", field="duration_s")
    return tidy
