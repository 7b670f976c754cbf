"""The local protocol-faithful Supabase (fake_supabase) for tests: a re-export, a runner
that serves it with uvicorn on a free port inside the test's event loop, and a driver for the supabase-js
listener script (tests/node/supabase_listen.mjs) run under Node."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fake_supabase import (
    BucketSpec,
    FakeSupabase,
    Fault,
    create_fake_supabase,
    make_access_token,
    make_api_key,
)
from tests.support.server import free_port, running

__all__ = [
    "BucketSpec",
    "FakeSupabase",
    "Fault",
    "NodeListener",
    "RunningFakeSupabase",
    "make_access_token",
    "make_api_key",
    "node_listener",
    "node_script",
    "running_fake_supabase",
]

ROOT = Path(__file__).resolve().parents[2]
LISTENER_SCRIPT = ROOT / "tests" / "node" / "supabase_listen.mjs"
FRONTEND = ROOT / "frontend"


@dataclass(frozen=True)
class RunningFakeSupabase:
    url: str  # SUPABASE_URL
    fake: FakeSupabase

    @property
    def anon_key(self) -> str:
        return self.fake.anon_key

    @property
    def service_key(self) -> str:
        return self.fake.service_key

    def websocket_url(self, vsn: str = "1.0.0", apikey: str | None = None) -> str:
        base = self.url.replace("http://", "ws://", 1)
        return f"{base}/realtime/v1/websocket?apikey={apikey or self.fake.anon_key}&vsn={vsn}"

    @property
    def service_headers(self) -> dict[str, str]:
        return {"apikey": self.fake.service_key, "Authorization": f"Bearer {self.fake.service_key}"}


@asynccontextmanager
async def running_fake_supabase(
    *,
    buckets: tuple[BucketSpec | str, ...] = (),
    authorize: Callable[[str, Mapping[str, Any]], bool] | None = None,
    idle_timeout_s: float = 60.0,
    jwt_secret: str | None = None,
    asymmetric_keys: bool = False,
) -> AsyncIterator[RunningFakeSupabase]:
    """The fake on 127.0.0.1:<free port>, stopped (and its sockets closed) on exit."""
    app, fake = create_fake_supabase(
        buckets=buckets,
        authorize=authorize,
        idle_timeout_s=idle_timeout_s,
        jwt_secret=jwt_secret,
        asymmetric_keys=asymmetric_keys,
    )
    async with running(app, free_port(), ws_max_size=5_000_000) as url:
        yield RunningFakeSupabase(url=url, fake=fake)


NODE_SCRIPTS = ROOT / "tests" / "node"


async def node_script(script: str, *args: str, timeout_s: float = 30) -> dict[str, Any]:
    """Run one of tests/node/*.mjs (official supabase-js inside) to the end; its last stdout line, as JSON.
    Fails (never skips) when node or frontend/node_modules is missing, or the script exits non-zero."""
    node = shutil.which("node")
    assert node is not None, "node is not on PATH"
    assert (FRONTEND / "node_modules" / "@supabase" / "supabase-js").is_dir(), "run npm ci in frontend/"
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_SCRIPTS / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    assert process.returncode == 0, err.decode()
    answer: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return answer


class NodeListener:
    """A running supabase_listen.mjs: read its JSON lines, send it commands."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []

    async def next_line(self, timeout: float = 15.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not raw:
            stderr = await self.process.stderr.read() if self.process.stderr else b""
            raise AssertionError(f"listener exited ({self.process.returncode}): {stderr.decode()[-2000:]}")
        line: dict[str, Any] = json.loads(raw)
        self.lines.append(line)
        return line

    async def wait_for(self, kind: str, timeout: float = 15.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                line = await self.next_line(timeout)
                if line["type"] == kind:
                    return line

    async def status(self, timeout: float = 15.0) -> str:
        line = await self.wait_for("status", timeout)
        return str(line["status"])

    async def command(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{text}\n".encode())
        await self.process.stdin.drain()

    async def no_broadcast_within(self, seconds: float) -> None:
        try:
            line = await self.wait_for("broadcast", seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected broadcast {line}")


@asynccontextmanager
async def node_listener(url: str, key: str, *args: str) -> AsyncIterator[NodeListener]:
    """Run the supabase-js listener; fails (never skips) when node or frontend/node_modules is missing."""
    node = shutil.which("node")
    assert node is not None, "node is not on PATH"
    assert (FRONTEND / "node_modules" / "@supabase" / "supabase-js").is_dir(), "run npm ci in frontend/"
    assert (FRONTEND / "node_modules" / "ws").is_dir(), "frontend/node_modules/ws is missing: run npm ci"
    process = await asyncio.create_subprocess_exec(
        node,
        str(LISTENER_SCRIPT),
        "--url",
        url,
        "--key",
        key,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    listener = NodeListener(process)
    try:
        yield listener
    finally:
        if process.returncode is None:
            try:
                await listener.command("quit")
                await asyncio.wait_for(process.wait(), 5)
            except (TimeoutError, ConnectionError):
                process.kill()
                await process.wait()
