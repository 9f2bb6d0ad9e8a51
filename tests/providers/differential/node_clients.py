"""Installs the providers' official Node clients (``package.json`` beside this file) once per pytest cache.

Like ``tests/clients/test_openai_node.py``: ``npm install`` from the npm registry into a folder under the
pytest cache, reused by later runs; skipped when Node 20+ or npm is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
PACKAGE_JSON = HERE / "package.json"


def install(request: pytest.FixtureRequest) -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are not installed; the Node differential tests need Node 20+ and npm")
    cache = request.config.cache
    folder = Path(cache.mkdir("provider-clients-npm")) if cache is not None else Path.home() / ".cache" / "reelay-npm"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = PACKAGE_JSON.read_text()
    stamp = folder / "package.json"
    if not stamp.exists() or stamp.read_text() != wanted or not (folder / "node_modules").is_dir():
        stamp.write_text(wanted)
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"npm install failed:\n{result.stderr}"
    return folder


def run_script(folder: Path, script: str, env: dict[str, str]) -> dict[str, Any]:
    """Run ``script`` (a file beside this module) next to ``node_modules``; its last stdout line is JSON."""
    target = folder / script
    shutil.copyfile(HERE / script, target)
    result = subprocess.run(
        ["node", str(target)], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed
