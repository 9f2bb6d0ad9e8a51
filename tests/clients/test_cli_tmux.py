"""``reelay generate`` once in a real terminal (tmux): the progress display shows a bar and a percentage,
and finishes with the saved path. Runs on its own tmux server socket, so no user session is touched."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.conftest import assert_probed_mp4
from tests.conftest import REELAY, LiveServer

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")


@pytest.fixture
def tmux() -> Iterator[list[str]]:
    socket = f"reelay-test-{uuid.uuid4().hex[:8]}"
    base = ["tmux", "-L", socket]
    yield base
    subprocess.run([*base, "kill-server"], capture_output=True)


def capture(tmux: list[str]) -> str:
    return subprocess.run([*tmux, "capture-pane", "-p", "-t", "cli"], capture_output=True, text=True).stdout


def test_progress_display_in_a_real_terminal(server: LiveServer, tmux: list[str], tmp_path: Path) -> None:
    out = tmp_path / "fox.mp4"
    command = (
        f"{shlex.quote(REELAY)} generate 'a red fox in the snow' --seconds 8 --size 1280x720 "
        f"--base-url {server.url} --out {shlex.quote(str(out))}; echo EX''IT=$?"  # '' hides EXIT= in the typed line
    )
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "cli", "-x", "160", "-y", "20", "-e", "TERM=xterm-256color"], check=True
    )
    subprocess.run([*tmux, "send-keys", "-t", "cli", command, "Enter"], check=True)
    screens: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        screen = capture(tmux)
        screens.append(screen)
        if "EXIT=" in screen:
            break
        time.sleep(0.2)
    final = screens[-1]
    assert "EXIT=0" in final, final
    assert f"saved {out}" in final.replace("\n", ""), final
    assert "━" in final and "100%" in final, final  # rich's bar, full
    live = [s for s in screens if "%" in s and "EXIT=" not in s]
    assert live, "the progress display never showed a percentage while running"
    assert_probed_mp4(out, size="1280x720", seconds=8)
