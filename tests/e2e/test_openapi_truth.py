"""The published OpenAPI document is true: schemathesis (pinned in the dev extras) reads
`/schema/openapi.json` from the running service and checks every operation with all its checks: no 5xx,
every status and body documented (our error shape), schema-valid requests accepted and schema-invalid
ones refused, security schemes enforced (no credentials: 401), 405s with `Allow`, and the stateful
links between operations. Fixed seed and bounded examples, so a run is repeatable and takes seconds.

It runs with an owner token, so the owner routes are explored beyond their 401. The webhook, the bridge
and the media routes are reached without their signatures (schemathesis cannot sign a body): their
signed paths are fuzzed by the hypothesis property tests of test_hostile_input.py."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import asyncpg

from tests.support.app import ADMIN_TOKEN, SeededApp, make_settings
from tests.support.server import free_port, running

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = "1"
MAX_EXAMPLES = "30"


async def test_schemathesis_finds_nothing(tmp_path: Path, database_url: str, db_pool: asyncpg.Pool) -> None:
    assert SCHEMATHESIS.exists(), "schemathesis is missing: make install (the dev extras pin it)"
    port = free_port()
    seeded = SeededApp(make_settings(tmp_path, database_url, port=port), database_url)
    async with running(seeded.app, port) as base:
        process = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/schema/openapi.json",
            "--checks",
            "all",
            "--seed",
            SEED,
            "--max-examples",
            MAX_EXAMPLES,
            "--generation-database",
            "none",
            "--header",
            f"Authorization: Bearer {ADMIN_TOKEN}",
            "--no-color",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,  # it may write a report or cassette beside it; never into the repository
        )
        output, _ = await asyncio.wait_for(process.communicate(), 300)
    report = output.decode(errors="replace")
    summary = report[report.rfind("SUMMARY") :]
    print(summary)  # the numbers, in the test log
    assert process.returncode == 0, report[-6000:]
    tested = re.search(r"Tested:\s+(\d+)", summary)
    assert tested is not None and int(tested.group(1)) >= 19, summary  # every operation, the owner API's too
    assert "Failures:" not in summary and "Errors:" not in summary, summary
