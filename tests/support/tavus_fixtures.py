"""The Tavus payloads and signature vectors: ../shared/fixtures beside the project when it is there (the
source of truth), else the copy in tests/fixtures (a plain clone elsewhere has no shared/ beside it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_SHARED = ROOT.parent / "shared" / "fixtures"
FIXTURES = _SHARED if (_SHARED / "signatures.json").is_file() else ROOT / "tests" / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / "tavus" / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def signature_vectors() -> Any:
    return json.loads((FIXTURES / "signatures.json").read_text())
