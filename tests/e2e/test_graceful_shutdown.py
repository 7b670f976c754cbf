"""Two `demo-relay serve` processes with HUB_BACKEND=postgres on one database (and one DATA_DIR, the shared
media volume), as a rolling deploy sees them: SIGTERM on A closes A's WebSockets with 1001 (going away)
at once and A exits within 10 s, without a traceback; the page reconnects to B with `since` and misses
nothing that was played meanwhile (through B). (Readiness while draining: test_postgres_hub.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support import postgres as pg
from tests.support.app import tavus_headers
from tests.support.server import free_port, stop, wait_ready

BIN = Path(sys.executable).parent
SECRET = "tavus-demo-secret-please-rotate"  # tests.support.app signs with it
ADMIN_TOKEN = "shutdown-admin-token-0123456789"
OWNER = {"authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Process:
    base: str
    process: subprocess.Popen[str]
    log: Path


def start(env: dict[str, str], data_dir: Path, name: str) -> Process:
    port = free_port()
    log = data_dir / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "demo-relay"), "serve"],
            env={**env, "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, process, time.monotonic())
    return Process(base, process, log)


@pytest.fixture
def instances(tmp_path: Path, postgres_server: pg.PostgresServer) -> Iterator[tuple[Process, Process]]:
    with ExitStack() as stack, pg.fresh_database(postgres_server, migrated=False) as dsn:
        env = {
            **{
                k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "SUPABASE", "TAVUS"))
            },
            "DATABASE_URL": dsn,
            "DATA_DIR": str(tmp_path),
            "HUB_BACKEND": "postgres",
            "TAVUS_WEBHOOK_SECRET": SECRET,
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "APP_SECRET": "shutdown-app-secret-0123456789abcdef012345",
            "DEMO_RELAY_CONFIG": str(tmp_path / "absent.toml"),
        }
        pair = []
        for name in ("a", "b"):
            process = start(env, tmp_path, name)
            stack.callback(stop, process.process)
            pair.append(process)
        yield pair[0], pair[1]


def play(title: str, call_id: str) -> bytes:
    return json.dumps(
        {
            "event_type": "conversation.tool_call",
            "conversation_id": "c-shutdown",
            "properties": {
                "name": "play_video",
                "tool_call_id": call_id,
                "arguments": json.dumps({"video_title": title}),
            },
        }
    ).encode()


async def test_sigterm_closes_sockets_with_1001_and_the_page_misses_nothing_on_b(
    instances: tuple[Process, Process],
) -> None:
    a, b = instances
    async with httpx.AsyncClient(timeout=30) as http:
        demos = (await http.get(f"{a.base}/api/demos")).json()
        assert len(demos) == 1  # two instances on an empty database seeded one demo
        demo_id = demos[0]["id"]
        title = demos[0]["videos"][0]["title"]
        session = (
            await http.post(
                f"{a.base}/api/demos/{demo_id}/sessions",
                headers=OWNER,
                json={"conversation_id": "c-shutdown"},
            )
        ).json()
        token = session["websocket"]["token"]

        async def webhook(instance: Process, call_id: str) -> dict[str, Any]:
            body = play(title, call_id)
            response = await http.post(
                f"{instance.base}/api/tavus-webhook", content=body, headers=tavus_headers(body)
            )
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer

        async with connect(f"{session['websocket']['url']}?token={token}") as ws:
            assert json.loads(await ws.recv())["event"] == "subscribed"
            await webhook(b, "before")  # through B, to the page on A
            seen = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert seen["payload"]["tool_call_id"] == "before"

            a.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
            assert time.monotonic() - signalled < 10

        # While the page reconnects, B plays two more.
        assert (await webhook(b, "gap-1"))["status"] == "played"
        assert (await webhook(b, "gap-2"))["status"] == "played"
        exit_code = await asyncio.to_thread(a.process.wait, 10)
        assert time.monotonic() - signalled < 10 and exit_code is not None

        url = session["websocket"]["url"].replace(a.base.replace("http", "ws"), b.base.replace("http", "ws"))
        async with connect(f"{url}?token={token}&since={seen['id']}") as ws:
            assert json.loads(await ws.recv())["event"] == "subscribed"
            missed = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(2)]
            assert [m["payload"]["tool_call_id"] for m in missed] == ["gap-1", "gap-2"]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
    assert "Traceback" not in a.log.read_text()
