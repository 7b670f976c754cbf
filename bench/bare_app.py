"""The baseline server of the throughput, latency and socket benchmarks: a bare Litestar app whose POST
answers {"ok": true} (and a WebSocket route that only waits), on exactly the uvicorn configuration
`demo-relay serve` uses (event loop, HTTP protocol with its deadlines, keep-alive, WebSocket settings).
The ratio of the verified webhook path to this one is what our own work costs.

Run by bench/harness.py as `python -m bench.bare_app` with PORT set."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from litestar import Litestar, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect

from demo_relay.config import Settings
from demo_relay.entrypoints.http.server import uvicorn_config


@post("/api/tavus-webhook", status_code=200)
async def bare_webhook() -> dict[str, bool]:
    return {"ok": True}


@websocket("/ws/bare")
async def bare_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """The idle-connection baseline: accept, say so, wait for the client to leave."""
    await socket.accept()
    await socket.send_text('{"event":"subscribed"}')
    try:
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        return


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    import uvicorn

    app = Litestar([bare_webhook, bare_socket, healthz], openapi_config=None)
    settings = replace(Settings(), port=int(os.environ["PORT"]), log_level="WARNING")
    uvicorn.Server(uvicorn_config(app, settings)).run()


if __name__ == "__main__":
    main()
