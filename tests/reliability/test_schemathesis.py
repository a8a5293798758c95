"""Property-based API testing with Schemathesis against a real ``pasokh serve`` on PostgreSQL.

Every operation in ``/openapi.json`` is called with generated valid and invalid requests (examples,
boundary values, random data, then stateful sequences that follow the links between operations), with
the admin key so the agent and admin routes are exercised too. Required: no 5xx response and every
documented response matches its schema. On failure the Schemathesis output (kept in the assertion
message) shows each failing request as a ``curl`` command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from reliability.replicas import ADMIN_KEY, pasokh_env

pytestmark = pytest.mark.integration

# Bounded so the run takes a few minutes on two cores; raise with PASOKH_SCHEMATHESIS_EXAMPLES locally.
MAX_EXAMPLES = int(os.environ.get("PASOKH_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = "not_a_server_error,response_schema_conformance"


def test_schemathesis_no_server_errors_and_responses_match_schema(
    start_replicas, database: str, shared_index: Path, tmp_path: Path
) -> None:
    (server,) = start_replicas(pasokh_env(index=shared_index, database_url=database), "S")
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261123",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {ADMIN_KEY}",
        "--suppress-health-check",
        "too_slow",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=1800, env=dict(os.environ))
    output = done.stdout + done.stderr
    print(output)  # shown by pytest on failure, and with -s
    assert done.returncode == 0, output[-20000:] + "\n--- server log ---\n" + server.log_tail()
