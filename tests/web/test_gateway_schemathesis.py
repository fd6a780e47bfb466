"""The gateway's JSON API tells the truth: a bounded schemathesis run over `/api/gateway` as the
trial coordinator and as the sponsor's guest, on the demo data (the shape of
test_openapi_schemathesis.py, whose four roles do not include these two)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_login
from tests.web.test_openapi_schemathesis import CHECKS, MAX_EXAMPLES, live_demo, settings

from atmpchain.demo import DEMO_PASSWORD

__all__ = ["live_demo", "settings"]


@pytest.mark.parametrize("role", ["coordinator", "sponsor"])
def test_every_answer_of_the_gateway_api_matches_its_document(
    live_demo: tuple[str, TestClient], role: str, tmp_path: Path
) -> None:
    base_url, client = live_demo
    csrf = web_login(client, role, DEMO_PASSWORD)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/openapi.json",
        "--header", f"Cookie: {cookie}", "--header", f"X-CSRF-Token: {csrf}",
        "--include-path-regex", "^/api/gateway",
        "--phases", "examples,coverage,fuzzing", "--checks", ",".join(CHECKS),
        "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
        "--workers", "1", "--no-color",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    assert " passed" in run.stdout and "generated" in run.stdout
