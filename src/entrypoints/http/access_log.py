"""Logs without query strings: webhook URLs carry `?token=<secret>`, media URLs `?sig=`, WebSocket
URLs the channel token, and none of that may reach a log. Replaces uvicorn's access log."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("demo_relay.access")


def access_log_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = [500]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            client: Any = scope.get("client") or ("-", 0)
            log.info(
                '%s "%s %s" %d %.1fms',
                printable(str(client[0])),
                printable(str(scope.get("method", "-"))),
                printable(scope["path"]),  # the path only: never the query string
                status[0],
                (time.perf_counter() - started) * 1000,
            )

    return middleware


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\\\"]")
MAX_LOGGED_PATH = 512


def printable(text: str) -> str:
    """`text` as one log line that cannot be mistaken for another: control characters (a `%0a` in a path
    decodes to a newline, which forged log lines), quotes and backslashes escaped; long paths cut."""
    escaped = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return escaped if len(escaped) <= MAX_LOGGED_PATH else escaped[:MAX_LOGGED_PATH] + "…"


class RedactQueryStrings(logging.Filter):
    """For loggers we don't write (uvicorn logs each WebSocket handshake with its `?token=`): drops every
    query string from the message before any handler sees it."""

    _QUERY = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = self._QUERY.sub("", message), ()
        return True


def redact_server_logs() -> None:
    for name in ("uvicorn.error", "uvicorn.access", "uvicorn"):
        logging.getLogger(name).addFilter(RedactQueryStrings())
