"""Every environment example the docs show is accepted as written, and the app starts with it.

Before this test, docs/security.md's ``REELAY_WEBHOOK_ALLOW_HOSTS=127.0.0.1,localhost`` crashed
``reelay serve`` at start (only a JSON list parsed). Examples are read from README.md and docs/*.md:
inline ``REELAY_X=value`` and the lines of the deploy guide's ``reelay.env`` block.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.runtime_summary import runtime_summary
from tests.conftest import REELAY, server_env

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_EXAMPLE = re.compile(r"\b(REELAY_[A-Z0-9_]+)=([^\s`'\"|)]+)")
# Read by the CLI or a provider adapter rather than Settings (README's configuration table says so).
# CLI-side and test-side variables (REELAY_REQUIRE_SERVICES: the README's test command)
NOT_SETTINGS = {"REELAY_BASE_URL", "REELAY_API_KEY", "REELAY_LOG_FORMAT", "REELAY_REQUIRE_SERVICES"}
# Need a service this test does not start (PostgreSQL, S3, Redis), or a provider's server: parsed only.
SERVICES = {"REELAY_DATABASE_URL", "REELAY_QUEUE", "REELAY_STORAGE", "REELAY_REDIS_URL", "REELAY_RUN_WORKERS"}
# Name a file or folder the reader writes themselves (reelay.toml, model cards): parsed only.
USER_FILES = {"REELAY_CONFIG_FILE", "REELAY_CATALOG_DIRS"}


def documented_examples() -> list[tuple[str, str, str]]:
    found: dict[tuple[str, str], str] = {}
    for doc in DOCS:
        for name, value in _EXAMPLE.findall(doc.read_text()):
            if "…" in value or "<" in value or "%i" in value or value.endswith(","):
                continue  # a placeholder, not an example
            found.setdefault((name, value.rstrip(".,;")), doc.name)
    return [(doc, name, value) for (name, value), doc in sorted(found.items())]


def settings_env_name(name: str) -> bool:
    return name.removeprefix("REELAY_").lower() in Settings.model_fields


def test_the_docs_have_examples_to_check() -> None:
    names = {name for _, name, _ in documented_examples()}
    assert {"REELAY_WEBHOOK_ALLOW_HOSTS", "REELAY_DATABASE_URL", "REELAY_S3_BUCKET"} <= names


@pytest.mark.parametrize(("doc", "name", "value"), documented_examples())
def test_each_documented_example_is_accepted(
    doc: str, name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name in NOT_SETTINGS or name.startswith("REELAY_OPENAI_COMPATIBLE_"):
        return  # not a Settings field (checked by the CLI / provider tests)
    assert settings_env_name(name), f"{doc} documents {name}, which no setting reads"
    for key in list(os.environ):
        if key.startswith("REELAY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("REELAY_DATA_DIR", str(tmp_path))
    settings = Settings(run_workers=False)
    if name in SERVICES or name in USER_FILES:
        assert runtime_summary(settings)
        return
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200


LIST_SETTINGS = [
    "REELAY_WEBHOOK_ALLOW_HOSTS",
    "REELAY_FETCH_ALLOW_HOSTS",
    "REELAY_WORKER_MODELS",
    "REELAY_WORKER_PROVIDERS",
]


@pytest.mark.parametrize("name", LIST_SETTINGS)
@pytest.mark.parametrize("value", ["127.0.0.1,localhost", " 127.0.0.1 , localhost ", '["127.0.0.1", "localhost"]'])
def test_list_settings_take_the_comma_form_and_json(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, value)
    assert getattr(Settings(), name.removeprefix("REELAY_").lower()) == ["127.0.0.1", "localhost"]


def test_numeric_list_settings_take_both_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("1,2.5", "[1, 2.5]"):
        monkeypatch.setenv("REELAY_WEBHOOK_RETRY_DELAYS", value)
        assert Settings().webhook_retry_delays == [1.0, 2.5]


def test_the_deploy_guide_env_file_selects_postgres_procrastinate_and_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    block = re.search(r"with `reelay.env`:\n\n```sh\n(.*?)```", (ROOT / "docs" / "deploy.md").read_text(), re.DOTALL)
    assert block is not None
    for line in block.group(1).splitlines():
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)
    summary = runtime_summary(Settings())
    assert "postgresql (reelay@postgres:5432/reelay)" in summary and "reelay-secret" not in summary
    assert "queue: procrastinate" in summary and "storage: s3 (bucket reelay, http://minio:9000)" in summary


def test_serve_names_its_database_queue_and_storage_in_help_and_at_start(tmp_path: Path) -> None:
    help_text = subprocess.run([REELAY, "serve", "--help"], capture_output=True, text=True, env=server_env())
    assert "REELAY_DATABASE_URL" in help_text.stdout and "REELAY_QUEUE" in help_text.stdout
    env = server_env(REELAY_WEBHOOK_ALLOW_HOSTS="127.0.0.1,localhost")
    started = subprocess.Popen(
        [REELAY, "serve", "--port", "0", "--data-dir", str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert started.stdout is not None
        lines: list[str] = []
        while not any("storage:" in line for line in lines) and len(lines) < 20:
            lines.append(started.stdout.readline())  # the banner, the loopback notice, then the summary
    finally:
        started.terminate()
        started.wait(timeout=30)
    assert any(f"database: sqlite ({tmp_path / 'reelay.db'})" in line for line in lines), lines
    assert any("queue: inprocess (workers in this process)" in line for line in lines), lines
