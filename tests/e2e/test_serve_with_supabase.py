"""Two real processes, as a person trying the Supabase path locally would start them:
`demo-relay fake-supabase --port P` and `demo-relay serve` with SUPABASE_URL and the keys it printed
(embedded Postgres, NOTIFIER=supabase, STORAGE=supabase). Proves that serve seeds the empty project
through the Storage API (three uploads), that the sessions endpoint names the supabase transport with the
anon key, and that `demo-relay send-tool-call` makes a supabase-js subscriber receive `play_video` whose
signed URL downloads from Storage."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import free_port, stop, wait_ready
from tests.support.supabase import node_listener

BIN = Path(sys.executable).parent
SECRET = "serve-supabase-secret"
ADMIN_TOKEN = "supabase-serve-admin-0123456789"


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[Any]:
    handle = log.open("w")
    try:
        return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    finally:
        handle.close()  # the child has its own descriptor


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("serve-supabase")
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "NOTIFIER", "STORAGE", "DATABASE_"))
    }
    supabase_port, relay_port = free_port(), free_port()
    supabase_url = f"http://127.0.0.1:{supabase_port}"
    fake = _start(
        [str(BIN / "demo-relay"), "fake-supabase", "--port", str(supabase_port)], clean, work / "fake.log"
    )
    relay: subprocess.Popen[Any] | None = None
    try:
        wait_ready(supabase_url, fake, time.monotonic(), path="/__fake/keys")
        keys = httpx.get(f"{supabase_url}/__fake/keys").json()
        env = {
            **clean,
            "PORT": str(relay_port),
            "DATA_DIR": str(work / "data"),
            "TAVUS_WEBHOOK_SECRET": SECRET,
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "DEMO_RELAY_CONFIG": str(work / "absent.toml"),
            "SUPABASE_URL": supabase_url,
            "SUPABASE_SERVICE_ROLE_KEY": keys["service_key"],
            "SUPABASE_ANON_KEY": keys["anon_key"],
        }
        relay = _start([str(BIN / "demo-relay"), "serve"], env, work / "serve.log")
        base = f"http://127.0.0.1:{relay_port}"
        wait_ready(base, relay, time.monotonic())
        yield {"base": base, "supabase_url": supabase_url, "keys": keys, "env": env, "work": work}
    finally:
        if relay is not None:
            stop(relay)
        stop(fake)


def test_serve_seeded_the_project_through_the_storage_api(stack: dict[str, Any]) -> None:
    [demo] = httpx.get(f"{stack['base']}/api/demos").json()
    stats = httpx.get(f"{stack['supabase_url']}/__fake/stats").json()
    assert sorted(stats["uploads"]) == sorted(
        f"demo-videos/{demo['id']}/{name}"
        for name in ("integrations-tour.mp4", "pricing-walkthrough.mp4", "product-overview.mp4")
    )


def test_send_tool_call_reaches_a_supabase_js_subscriber(stack: dict[str, Any]) -> None:
    base = stack["base"]
    [demo] = httpx.get(f"{base}/api/demos").json()
    session = httpx.post(
        f"{base}/api/demos/{demo['id']}/sessions",
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        json={"conversation_id": "c-cli"},
    ).json()
    assert session["transport"] == "supabase"
    assert session["supabase"]["anon_key"] == stack["keys"]["anon_key"]
    assert stack["keys"]["service_key"] not in json.dumps(session)

    async def scenario() -> dict[str, Any]:
        async with node_listener(
            session["supabase"]["url"], session["supabase"]["anon_key"], "--topic", session["channel"]
        ) as listener:
            assert await listener.status() == "SUBSCRIBED"
            command = [
                str(BIN / "demo-relay"),
                "send-tool-call",
                "--demo",
                demo["id"],
                "--conversation",
                "c-cli",
                "--title",
                "integrations TOUR",
            ]
            sent = await asyncio.to_thread(
                subprocess.run, command, env=stack["env"], capture_output=True, text=True, timeout=60
            )
            assert sent.returncode == 0, sent.stdout + sent.stderr
            assert '"delivered_via":["supabase"]' in sent.stdout
            line = await listener.wait_for("broadcast")
            message: dict[str, Any] = line["message"]
            return message

    message = asyncio.run(scenario())
    assert message["event"] == "play_video" and message["payload"]["title"] == "Integrations tour"
    video = httpx.get(message["payload"]["url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    log = (stack["work"] / "serve.log").read_text()
    assert stack["keys"]["service_key"] not in log and SECRET not in log
