"""What a large upload costs the service in memory: `demo-relay serve` (a subprocess, embedded Postgres,
local storage) takes a 500 MB MP4 (a real `ftyp`/`moov` head, then a padding box) through
`POST /api/demos/{id}/videos`, streamed by the client in 1 MiB chunks. We read the server process's peak
resident memory (VmHWM) before and after, against a 1 MB upload in the same run as the baseline, and the
upload's throughput against writing the same bytes to a local file in this process. Nothing asserts.

Run: `make bench` (or `.venv/bin/python -m bench.upload_rss`)."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BIG = 500 * 1024 * 1024
SMALL = 1024 * 1024
CHUNK = 1024 * 1024
BOUNDARY = "demo-relay-bench-boundary"


def mp4_head(total: int, duration_s: int = 30) -> bytes:
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 512, b"isom", b"mp41")
    mvhd_body = struct.pack(">B3sIIII", 0, b"\x00\x00\x00", 0, 0, 1000, duration_s * 1000) + b"\x00" * 80
    mvhd = struct.pack(">I4s", 8 + len(mvhd_body), b"mvhd") + mvhd_body
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    head = ftyp + moov
    return head + struct.pack(">I4s", total - len(head), b"free")


def multipart(size: int, title: str) -> tuple[int, Iterator[bytes]]:
    head = mp4_head(size)
    before = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\n{title}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    after = f"\r\n--{BOUNDARY}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield before + head
        left = size - len(head)
        zero = bytes(CHUNK)
        while left > 0:
            n = min(CHUNK, left)
            yield zero[:n]
            left -= n
        yield after

    return len(before) + size + len(after), chunks()


def peak_rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "MAX_VIDEO_BYTES": str(BIG + SMALL)}
    binary = Path(sys.executable).with_name("demo-relay")
    server = subprocess.Popen(
        [str(binary), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=600) as http:
            for _ in range(300):
                try:
                    if http.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            token = (data_dir / "secrets" / "admin_token").read_text().strip()
            headers = {
                "authorization": f"Bearer {token}",
                "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            }
            demo_id = http.get("/api/demos").json()[0]["id"]

            def upload(size: int, title: str) -> float:
                length, body = multipart(size, title)
                started = time.perf_counter()
                response = http.post(
                    f"/api/demos/{demo_id}/videos",
                    content=body,
                    headers={**headers, "content-length": str(length)},
                )
                elapsed = time.perf_counter() - started
                assert response.status_code == 201, response.text
                http.delete(f"/api/demos/{demo_id}/videos/{response.json()['id']}", headers=headers)
                return elapsed

            idle_rss, _ = peak_rss_mb(server.pid)
            upload(SMALL, "warm-up")
            _, small_peak = peak_rss_mb(server.pid)
            big_s = upload(BIG, "Half a gigabyte")
            _, big_peak = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)

    with tempfile.NamedTemporaryFile(dir=data_dir) as handle:
        started = time.perf_counter()
        _, body = multipart(BIG, "x")
        for chunk in body:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
        disk_s = time.perf_counter() - started

    print("upload of a 500 MB MP4 through POST /api/demos/{id}/videos (local storage, streamed)")
    print(f"  server RSS idle                 {idle_rss:8.1f} MB")
    print(f"  server peak RSS after 1 MB      {small_peak:8.1f} MB   (baseline)")
    print(
        f"  server peak RSS after 500 MB    {big_peak:8.1f} MB   (+{big_peak - small_peak:.1f} MB, "
        f"{(big_peak - small_peak) / 500 * 100:.2f} % of the file)"
    )
    print(f"  upload time                     {big_s:8.2f} s    ({500 / big_s:.0f} MB/s)")
    print(f"  writing 500 MB to a local file  {disk_s:8.2f} s    (the upload takes {big_s / disk_s:.1f}x)")


if __name__ == "__main__":
    main()
