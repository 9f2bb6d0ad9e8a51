"""A bare ``pip install .`` (no extras) starts, serves and renders: optional really means optional.

The suite itself runs from ``.[dev]``, which pulls in every extra, so only a fresh virtual
environment can show that the default path imports none of them (psycopg, procrastinate, boto3,
redis). This one installs the package as a user would, checks the extras are absent, starts
``reelay serve`` on SQLite and runs the README's quick start against it. pip's cache keeps the
install to the index round trips; it runs in CI like every other test.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import LiveServer, free_port, server_env
from tests.test_readme import assert_fox, snippet

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("psycopg", "psycopg_pool", "procrastinate", "boto3", "redis")


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with ``pip install .`` and nothing else."""
    folder = tmp_path_factory.mktemp("bare") / "venv"
    venv.EnvBuilder(with_pip=True).create(folder)
    install = subprocess.run(
        [str(folder / "bin" / "pip"), "install", "--quiet", "--progress-bar", "off", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return folder


def test_the_bare_install_has_no_extras(bare_venv: Path) -> None:
    probe = f"import importlib.util as u; print(' '.join(m for m in {EXTRAS!r} if u.find_spec(m)))"
    found = subprocess.run([str(bare_venv / "bin" / "python"), "-c", probe], capture_output=True, text=True)
    assert found.returncode == 0 and found.stdout.strip() == "", (found.stdout, found.stderr)


def test_the_bare_install_creates_keys(bare_venv: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(bare_venv / "bin" / "reelay"), "keys", "list", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        env=server_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_bare_install_serves_the_readme_quick_start(bare_venv: Path, tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data", free_port(), server_env())
    server.command = str(bare_venv / "bin" / "reelay")
    server.start()
    try:
        code = snippet("python", "requests.post").replace("http://127.0.0.1:8000", server.url)
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr
        assert "Video URL: http" in result.stdout, result.stdout
        assert_fox(tmp_path)
    finally:
        server.stop()
