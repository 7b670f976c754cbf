"""`demo-relay serve` as `make run` starts it: a real process with PORT, DATA_DIR and TAVUS_WEBHOOK_SECRET,
embedded Postgres, migrations and the seeded demo. /readyz answers within seconds, /api/demos lists the
sample demo, and `demo-relay send-tool-call` (signing like Tavus) makes a subscriber receive play_video."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support.server import free_port, stop, wait_ready

BIN = Path(sys.executable).parent
SECRET = "serve-test-secret"
WRONG_SECRET = "wrong-secret-0123456789"
HEADER_TIMEOUT_S = 1.0
ADMIN_TOKEN = "serve-admin-token-0123456789"
OWNER = {"authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], float]]:
    data_dir = tmp_path_factory.mktemp("serve-data")
    port = free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "NOTIFIER", "STORAGE", "SUPABASE_URL")
        },
        "PORT": str(port),
        "DATA_DIR": str(data_dir),
        "TAVUS_WEBHOOK_SECRET": SECRET,
        "DEMO_RELAY_CONFIG": str(data_dir / "absent.toml"),
        "HTTP_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "ADMIN_TOKEN": ADMIN_TOKEN,
    }
    started = time.monotonic()
    # A file, not a pipe: nobody drains a pipe while the tests run, and the secrets test reads the log.
    log_file = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "demo-relay"), "serve"], env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        ready_after = wait_ready(base, process, started)
        yield base, env, ready_after
    finally:
        stop(process)
        log_file.close()


def test_serve_lists_the_seeded_demo(served: tuple[str, dict[str, str], float]) -> None:
    base, _, _ = served
    demos = httpx.get(f"{base}/api/demos").json()
    assert len(demos) == 1
    assert sorted(v["title"] for v in demos[0]["videos"]) == [
        "Integrations tour",
        "Pricing Walkthrough",
        "Product Overview",
    ]
    assert httpx.get(f"{base}/").status_code == 200


def test_send_tool_call_reaches_a_subscriber(served: tuple[str, dict[str, str], float]) -> None:
    base, env, _ = served
    demo = httpx.get(f"{base}/api/demos").json()[0]
    session = httpx.post(
        f"{base}/api/demos/{demo['id']}/sessions", headers=OWNER, json={"conversation_id": "c7f3a1b2e9d0"}
    ).json()

    async def scenario() -> dict[str, object]:
        async with connect(f"{session['websocket']['url']}?token={session['websocket']['token']}") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] == "subscribed"
            command = [
                str(BIN / "demo-relay"),
                "send-tool-call",
                "--demo",
                demo["id"],
                "--title",
                "pricing walkthrough",
            ]
            sent = await asyncio.to_thread(
                subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
            )
            assert sent.returncode == 0, sent.stdout + sent.stderr
            assert sent.stdout.startswith("200 ") and '"status":"played"' in sent.stdout
            frame: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), 5))
            return frame

    frame = asyncio.run(scenario())
    assert frame["event"] == "play_video"
    payload = frame["payload"]
    assert isinstance(payload, dict) and payload["title"] == "Pricing Walkthrough"
    video = httpx.get(str(payload["url"]))
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


def test_a_wrongly_signed_cli_call_is_refused(served: tuple[str, dict[str, str], float]) -> None:
    base, env, _ = served
    demo = httpx.get(f"{base}/api/demos").json()[0]
    command = [str(BIN / "demo-relay"), "send-tool-call", "--demo", demo["id"], "--title", "Product Overview"]
    sent = subprocess.run(
        command, env={**env, "TAVUS_WEBHOOK_SECRET": WRONG_SECRET}, capture_output=True, text=True, timeout=60
    )
    assert sent.returncode == 1 and sent.stdout.startswith("401 ")


def test_secrets_never_reach_the_log(served: tuple[str, dict[str, str], float]) -> None:
    base, env, _ = served
    body = (
        Path(__file__)
        .resolve()
        .parents[1]
        .joinpath("fixtures", "tavus", "system.replica_joined.json")
        .read_bytes()
    )
    assert httpx.post(f"{base}/api/tavus-webhook", content=body, params={"token": SECRET}).status_code == 200
    assert (
        httpx.post(f"{base}/api/tavus-webhook", content=b"{}", params={"token": SECRET + "x"}).status_code
        == 401
    )
    log = Path(env["DATA_DIR"], "serve.log")
    deadline = time.monotonic() + 5
    while '"POST /api/tavus-webhook" 401' not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text()
    assert '"POST /api/tavus-webhook" 200' in text and '"POST /api/tavus-webhook" 401' in text
    assert SECRET not in text and "token=" not in text and "sig=" not in text


def test_sigterm_stops_the_embedded_postgres_too(tmp_path: Path) -> None:
    """A stopped `make run` must not leave its database server behind."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATA_DIR": str(tmp_path), "TAVUS_WEBHOOK_SECRET": SECRET}
    env.pop("DATABASE_URL", None)
    with (tmp_path / "serve.log").open("w") as log_file:
        process = subprocess.Popen(
            [str(BIN / "demo-relay"), "serve"], env=env, stdout=log_file, stderr=log_file
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}", process, time.monotonic())
            postmaster = tmp_path / "pg" / "postmaster.pid"
            assert postmaster.exists()
        finally:
            process.terminate()
            code = process.wait(30)
    assert code == 128 + 15
    deadline = time.monotonic() + 10
    while postmaster.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not postmaster.exists(), "the embedded Postgres is still running"


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # silent
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",  # a head that never ends
        b"POST /api/tavus-webhook HTTP/1.1\r\nHo",
        b"POST /api/tavus-webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",  # a body that stops
    ],
)
def test_silent_and_half_sent_connections_are_closed(
    served: tuple[str, dict[str, str], float], sent: bytes
) -> None:
    base, _, _ = served
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(sent)
        conn.settimeout(HEADER_TIMEOUT_S + 5)
        started = time.monotonic()
        assert conn.recv(100) == b""  # closed by the server, nothing answered
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 3


def test_a_websocket_outlives_the_header_deadline(served: tuple[str, dict[str, str], float]) -> None:
    base, _, _ = served
    demo = httpx.get(f"{base}/api/demos").json()[0]
    session = httpx.post(
        f"{base}/api/demos/{demo['id']}/sessions", headers=OWNER, json={"conversation_id": "ws-long"}
    ).json()

    async def scenario() -> None:
        async with connect(f"{session['websocket']['url']}?token={session['websocket']['token']}") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] == "subscribed"
            await asyncio.sleep(HEADER_TIMEOUT_S * 2)
            await ws.send('{"type":"ping"}')
            # The demo's current video (an earlier test played one) may come first; the pong must come.
            async with asyncio.timeout(5):
                while json.loads(await ws.recv()) != {"event": "pong"}:
                    pass

    asyncio.run(scenario())


def test_a_body_that_keeps_moving_is_never_cut(served: tuple[str, dict[str, str], float]) -> None:
    # The body deadline is an idle one: 2.5 s of body, a chunk every 0.5 s, under a 1 s deadline.
    base, _, _ = served
    port = int(base.rsplit(":", 1)[1])
    body = b'{"event_type":"system.replica_joined","conversation_id":"slow-but-steady"}'
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(
            b"POST /api/tavus-webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        for start in range(0, len(body), 15):
            time.sleep(HEADER_TIMEOUT_S / 2)
            conn.sendall(body[start : start + 15])
        conn.settimeout(5)
        assert conn.recv(100).startswith(b"HTTP/1.1 401")  # answered (unsigned), not dropped
