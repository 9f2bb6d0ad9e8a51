"""``REELAY_REQUIRE_SERVICES=1``: every skipped test is a failure (what ``.ci/run`` sets).

Tests skip, saying why, when a service or tool they need is missing here (PostgreSQL, Redis, Node,
Chromium, tmux, curl/jq), so a developer without PostgreSQL can still run the suite. In CI a skip
would hide an untested feature behind a green run, so with the variable set this hook reports the
skip as a failure with the same reason. ``tests/conftest.py`` imports the hooks; a pytest run outside
``tests/`` can load it with ``-p tests.require_services``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

VARIABLE = "REELAY_REQUIRE_SERVICES"


def services_required() -> bool:
    return os.environ.get(VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and services_required() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped, and {VARIABLE}=1 makes a skip a failure: {_reason(report)}\n"
            f"(provide the service or tool, or unset {VARIABLE} to let this test skip locally)"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    """A whole module skipped at import (``pytest.importorskip``) fails too: the run stops there."""
    outcome = yield
    report: pytest.CollectReport = outcome.get_result()
    if report.skipped and services_required():
        report.outcome = "failed"
        report.longrepr = f"skipped at collection, and {VARIABLE}=1 makes a skip a failure: {_reason(report)}"
