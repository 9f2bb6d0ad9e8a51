"""The README's quick start runs as written (only the port differs) against a real server."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from tests.conftest import LiveServer

README = Path(__file__).resolve().parents[1] / "README.md"


def snippet(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.DOTALL)
    return next(block for block in blocks if containing in block)


def assert_fox(folder: Path) -> None:
    with av.open(str(folder / "fox.mp4")) as container:
        assert container.duration is not None and abs(container.duration / 1e6 - 5) <= 0.1
        assert (container.streams.video[0].width, container.streams.video[0].height) == (1280, 720)
        assert container.streams.audio[0].codec_context.name == "aac"


def test_python_requests_loop(server: LiveServer, tmp_path: Path) -> None:
    code = snippet("python", "requests.post").replace("http://127.0.0.1:8000", server.url)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Video URL: http" in result.stdout
    assert_fox(tmp_path)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_curl_loop(server: LiveServer, tmp_path: Path) -> None:
    script = snippet("bash", "jq -r '.id'").replace("http://127.0.0.1:8000", server.url)
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Status: completed" in result.stdout
    assert_fox(tmp_path)
