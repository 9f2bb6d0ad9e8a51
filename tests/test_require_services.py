"""No silent skips in CI: with REELAY_REQUIRE_SERVICES=1 a test whose service is down fails.

Proved on a throwaway test file in a pytest subprocess, with PostgreSQL pointed at a closed port:
without the variable the test skips and says why (a developer's machine); with it, the run fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
NEEDS_POSTGRES = """
from tests.postgres import postgres_url

__all__ = ["postgres_url"]


def test_needs_postgres(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql")


def test_needs_nothing() -> None:
    assert True
"""


def run_pytest(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_tiny.py").write_text(NEEDS_POSTGRES)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REELAY_")}
    environment.update(PYTHONPATH=str(ROOT), REELAY_TEST_POSTGRES_PORT=str(free_port()), **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.require_services", "-p", "no:cacheprovider", "-rs", "-q",
         "."],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_missing_service_skips_with_its_reason_locally(tmp_path: Path) -> None:
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert re.search(r"SKIPPED .*PostgreSQL on 127\.0\.0\.1:\d+ \(user postgres\) is unreachable", result.stdout)


def test_a_missing_service_fails_the_run_when_services_are_required(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, REELAY_REQUIRE_SERVICES="1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped" not in result.stdout.splitlines()[-1]
    assert "1 passed, 1 error" in result.stdout
    assert "REELAY_REQUIRE_SERVICES=1 makes a skip a failure: PostgreSQL on 127.0.0.1" in result.stdout


def test_a_module_skipped_at_import_fails_too_when_services_are_required(tmp_path: Path) -> None:
    (tmp_path / "test_extra.py").write_text('import pytest\n\npytest.importorskip("reelay_no_such_extra")\n')
    local = run_pytest(tmp_path)
    assert local.returncode == 0 and "1 passed, 2 skipped" in local.stdout, local.stdout
    required = run_pytest(tmp_path, REELAY_REQUIRE_SERVICES="1")
    assert required.returncode != 0, required.stdout
    assert "skipped at collection, and REELAY_REQUIRE_SERVICES=1 makes a skip a failure" in required.stdout


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text().split("## Test", 1)[1]
    (command,) = re.findall(r"```bash\n(.*?)\n```", readme, re.DOTALL)[:1]
    assert command == "REELAY_REQUIRE_SERVICES=1 python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert command in ci, "the line .ci/run runs must be the README's test command, as written"
