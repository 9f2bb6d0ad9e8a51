"""The Dockerfile builds what docs/deploy.md runs (docker itself cannot run in the test environment):
the image installs the ``scale`` extra the guide names, its command is the compose file's ``api``
command, every path it copies exists, and every ``reelay`` command the compose file runs exists."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

from tests.conftest import REELAY, server_env

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DEPLOY = (ROOT / "docs" / "deploy.md").read_text()


def compose_block() -> str:
    block = re.search(r"```yaml\n(services:.*?)```", DEPLOY, re.DOTALL)
    assert block is not None
    return block.group(1)


def test_the_image_installs_what_the_guide_installs() -> None:
    assert 'pip install --no-cache-dir ".[scale]"' in DOCKERFILE
    assert "pip install '.[scale]'" in DEPLOY
    assert "docker build -t reelay ." in DEPLOY
    assert re.findall(r"image: (reelay)\b", compose_block()) == ["reelay"] * 3


def test_every_copied_path_exists() -> None:
    for sources in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), source


def test_the_image_command_is_the_compose_api_command() -> None:
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE).group(1))  # type: ignore[union-attr]
    api = re.search(r"  api:\n    image: reelay\n    command: (.+)\n", compose_block())
    assert api is not None and shlex.split(api.group(1)) == cmd


def test_every_compose_command_is_a_reelay_command() -> None:
    for command in re.findall(r"command: (reelay .+)", compose_block()):
        words = shlex.split(command)
        sub = [w for w in words[1:] if not w.startswith("-")][:1]
        done = subprocess.run([REELAY, *sub, "--help"], capture_output=True, text=True, env=server_env())
        assert done.returncode == 0, (command, done.stderr)
