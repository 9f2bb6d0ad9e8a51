"""Helpers for the playground tests: Chromium through Playwright, axe-core from npm, screenshots.

axe-core is installed once from the npm registry into the pytest cache (like the Node SDK test); its
``axe.min.js`` is injected into the page and ``axe.run()`` checks it against WCAG 2 A/AA rules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots land here (git-ignored); the ones in docs/img/ are copies of a run's, referenced from the docs.
SHOTS = Path(
    os.environ.get("REELAY_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "test-artifacts" / "playground"
)
AXE_PACKAGE = "axe-core@4"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (apt-get install -y chromium; .ci/run does this)"
)


def axe_script(request: pytest.FixtureRequest) -> str:
    if not shutil.which("npm"):
        pytest.skip("npm is not installed; the accessibility check needs axe-core from the npm registry")
    cache = request.config.cache
    folder = Path(cache.mkdir("axe-core-npm")) if cache is not None else Path.home() / ".cache" / "reelay-axe-core"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        (folder / "package.json").write_text('{"name": "reelay-axe", "private": true}\n')
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", AXE_PACKAGE],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"npm install {AXE_PACKAGE} failed:\n{result.stderr}"
    return script.read_text()


def serious_violations(page: Any, axe: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now (WCAG 2 A and AA)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe)
    result = page.evaluate(
        "async () => JSON.stringify(await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}))"
    )
    violations: list[dict[str, Any]] = json.loads(result)["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Any, name: str, viewport: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"playground-{name}-{viewport}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
