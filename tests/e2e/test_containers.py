"""The shipped containers, built and run on this machine: the image (Dockerfile: non-root, a HEALTHCHECK on
/readyz, no dev dependencies) and compose.yaml (Postgres, two instances, the nginx proxy) brought up with
docker-compose. Through the proxy, and only through ports published on 127.0.0.1: both instances are ready,
one demo was seeded, and signed webhooks reach a WebSocket subscriber, whichever instance takes each.

Where no registry answers, scripts/local-images builds the images on a debootstrapped Debian base; `make
test` starts a Docker engine first when it runs as root (scripts/docker-engine)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support.app import tavus_headers
from tests.support.postgres import docker_available
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "tavus-demo-secret-please-rotate"  # tests.support.app signs with it
ADMIN_TOKEN = "containers-admin-token-0123456789"
BUILD_WITHIN_S = 1200  # a fresh machine builds the base, Postgres, app and proxy images
UP_WITHIN_S = 180


@dataclass(frozen=True)
class Stack:
    base: str  # the proxy, published on 127.0.0.1
    images: dict[str, str]
    project: str
    env: dict[str, str]

    def compose(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker-compose", "-f", str(ROOT / "compose.yaml"), "-p", self.project, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _engine() -> None:
    if docker_available():
        return
    if os.geteuid() != 0:
        pytest.skip("no Docker engine answers and only root may start one (scripts/docker-engine)")
    pytest.fail("no Docker engine answers: `make test` starts one as root (scripts/docker-engine)")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    _engine()
    assert shutil.which("docker-compose"), "docker-compose is missing (scripts/docker-engine installs it)"
    built = subprocess.run(
        [str(ROOT / "scripts" / "local-images"), "env"],
        capture_output=True,
        text=True,
        timeout=BUILD_WITHIN_S,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    images = dict(line.split("=", 1) for line in built.stdout.split())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_HOST", "LANG")},
        **images,
        "PROXY_BIND": "127.0.0.1",
        "PROXY_PORT": str(port),
        "PUBLIC_BASE_URL": base,
        "TAVUS_WEBHOOK_SECRET": SECRET,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "APP_SECRET": secrets.token_urlsafe(32),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
    }
    running = Stack(base, images, f"demorelaytest{secrets.token_hex(3)}", env)
    try:
        up = running.compose("up", "-d", "--no-build", timeout=UP_WITHIN_S)
        assert up.returncode == 0, up.stderr[-3000:]
        _wait_ready(running)
        yield running
    finally:
        logs = running.compose("logs", "--no-color", "--tail", "50")
        down = running.compose("down", "-v", "--remove-orphans")
        if down.returncode != 0:
            print(down.stderr)
        print(logs.stdout[-5000:])


def _wait_ready(stack: Stack) -> None:
    deadline = time.monotonic() + UP_WITHIN_S
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{stack.base}/readyz", timeout=2)
            last = response.status_code
            if response.status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(1)
    logs = stack.compose("logs", "--no-color", "--tail", "80").stdout
    pytest.fail(f"the stack did not become ready through the proxy (last: {last})\n{logs[-4000:]}")


def _inspect(image: str) -> dict[str, object]:
    out = subprocess.run(
        ["docker", "image", "inspect", image], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    config: dict[str, object] = json.loads(out)[0]["Config"]
    return config


def test_the_image_runs_as_a_user_reports_readiness_and_carries_no_dev_tools(stack: Stack) -> None:
    config = _inspect(stack.images["APP_IMAGE"])
    assert config["User"] == "demo-relay"
    healthcheck = json.dumps(config["Healthcheck"])
    assert "/readyz" in healthcheck
    probe = subprocess.run(
        [
            "docker", "run", "--rm", "--entrypoint", "python3", stack.images["APP_IMAGE"], "-c",
            "import importlib.util as u, json;"
            "print(json.dumps({m: u.find_spec(m) is not None for m in"
            " ('demo_relay', 'pytest', 'fake_supabase', 'fake_tavus', 'ruff', 'testcontainers')}))",
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    found = json.loads(probe.stdout)
    assert found == {
        "demo_relay": True,
        "pytest": False,
        "fake_supabase": False,
        "fake_tavus": False,
        "ruff": False,
        "testcontainers": False,
    }
    ps = stack.compose("ps")
    assert ps.stdout.count("(healthy)") >= 3, ps.stdout  # postgres and both instances


async def test_signed_webhooks_through_the_proxy_reach_a_subscriber_through_the_proxy(stack: Stack) -> None:
    owner = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=stack.base, timeout=30) as http:
        demos = (await http.get("/api/demos")).json()
        assert len(demos) == 1  # two instances on one empty database seeded one demo
        demo = demos[0]
        opened = await http.post(
            f"/api/demos/{demo['id']}/sessions", headers=owner, json={"conversation_id": "c-containers"}
        )
        assert opened.status_code == 201, opened.text
        session = opened.json()
        assert session["websocket"]["url"].startswith(stack.base.replace("http://", "ws://"))
        async with connect(f"{session['websocket']['url']}?token={session['websocket']['token']}") as ws:
            assert json.loads(await ws.recv())["event"] == "subscribed"
            calls = [f"call-{i}" for i in range(6)]  # round-robin: both instances take some
            for i, call_id in enumerate(calls):
                body = json.dumps(
                    {
                        "event_type": "conversation.tool_call",
                        "conversation_id": "c-containers",
                        "properties": {
                            "name": "play_video",
                            "tool_call_id": call_id,
                            "arguments": json.dumps({"video_title": demo["videos"][i % 3]["title"]}),
                        },
                    }
                ).encode()
                played = await http.post("/api/tavus-webhook", content=body, headers=tavus_headers(body))
                assert played.status_code == 200 and played.json()["status"] == "played", played.text
            got = [json.loads(await asyncio.wait_for(ws.recv(), 15)) for _ in calls]
            assert [frame["payload"]["tool_call_id"] for frame in got] == calls
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
            video = await http.get(got[0]["payload"]["url"].replace(demo_base(got[0]), stack.base))
            assert video.status_code == 200 and video.headers["content-type"].startswith("video/")


def demo_base(frame: dict[str, object]) -> str:
    url = str(frame["payload"]["url"])  # type: ignore[index]
    return url.split("/media/")[0]
