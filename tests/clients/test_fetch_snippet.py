"""docs/clients.md's JavaScript ``fetch`` loop runs verbatim on Node 20+ (only the port differs)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import assert_probed_mp4
from tests.conftest import LiveServer

CLIENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"


def js_snippet(containing: str) -> str:
    blocks = re.findall(r"```js\n(.*?)```", CLIENTS_DOC.read_text(), re.DOTALL)
    return next(block for block in blocks if containing in block)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node 20+ (global fetch) on PATH")
def test_fetch_loop_from_the_docs(server: LiveServer, tmp_path: Path) -> None:
    script = tmp_path / "fox.mjs"
    script.write_text(js_snippet("await fetch(").replace("http://127.0.0.1:8000", server.url))
    result = subprocess.run(["node", str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Status: completed" in result.stdout and "Video URL: http" in result.stdout
    assert_probed_mp4(tmp_path / "fox.mp4", size="1280x720", seconds=5)
