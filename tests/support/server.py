"""Runs an ASGI app under a real uvicorn server on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

READY_WITHIN_S = 30  # generous for a loaded CI machine; the acceptance target (5 s) is measured in bench/


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def running(app: Any, port: int, ws_max_size: int = 4096) -> AsyncIterator[str]:
    """Yields the base URL once uvicorn has started (lifespan included); stops it on exit."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, ws_max_size=ws_max_size, lifespan="on", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()  # surfaces the start-up error
                    raise RuntimeError("uvicorn stopped during start-up")
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


def wait_ready(
    base: str,
    process: subprocess.Popen[Any],
    started: float,
    path: str = "/readyz",
    within_s: float = READY_WITHIN_S,
) -> float:
    """Polls `base + path` until it answers 200; the seconds since `started`. Fails if the process exits."""
    while time.monotonic() - started < within_s:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}{path}", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{path} not 200 within {within_s} s")


def stop(process: subprocess.Popen[Any], timeout_s: float = 20) -> None:
    """SIGTERM (a graceful stop: serve stops its embedded Postgres too), SIGKILL if it does not exit."""
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
