"""Every variable in the README's configuration table is read, and the ones with no other test do
what the README says: ``REELAY_PUBLIC_URL``, the ``.env`` file, ``REELAY_DEFAULT_MAX_CONCURRENT``,
``REELAY_LOG_FORMAT=text`` (with ``REELAY_HOST``/``PORT``/``DATA_DIR`` and no flags) and
``REELAY_CATALOG_DIRS`` as a JSON list."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.cli.main import app as cli_app
from reelay.config import Settings
from tests.conftest import REELAY, LiveServer, free_port, server_env
from tests.security.keyed import bearer, create_key, reelay

README = Path(__file__).resolve().parents[2] / "README.md"
CARDS = Path(__file__).resolve().parents[2] / "src" / "reelay" / "catalog" / "cards"

# variable → (value set in the environment, Settings attribute, the value Settings must hold)
READ_BY_SETTINGS: dict[str, tuple[str, str, Any]] = {
    "REELAY_DATA_DIR": ("/srv/reelay-data", "data_dir", Path("/srv/reelay-data")),
    "REELAY_HOST": ("0.0.0.0", "host", "0.0.0.0"),
    "REELAY_PORT": ("8123", "port", 8123),
    "REELAY_DATABASE_URL": ("postgresql://db/reelay", "database_url", "postgresql://db/reelay"),
    "REELAY_PUBLIC_URL": ("https://videos.example.com", "public_url", "https://videos.example.com"),
    "REELAY_WORKERS": ("7", "workers", 7),
    "REELAY_SUBMIT_CONCURRENCY": ("5", "submit_concurrency", 5),
    "REELAY_POLL_CONCURRENCY": ("9", "poll_concurrency", 9),
    "REELAY_LOCAL_RENDER_PROCESSES": ("3", "local_render_processes", 3),
    "REELAY_RENDER_MEMORY_MB": ("0", "render_memory_mb", 0),
    "REELAY_PROCESS_IDLE_SECONDS": ("2.5", "process_idle_seconds", 2.5),
    "REELAY_RETENTION_HOURS": ("12.5", "retention_hours", 12.5),
    "REELAY_MAX_UPLOAD_BYTES": ("1000", "max_upload_bytes", 1000),
    "REELAY_MAX_IMAGE_BYTES": ("2000", "max_image_bytes", 2000),
    "REELAY_MAX_VIDEO_BYTES": ("3000", "max_video_bytes", 3000),
    "REELAY_FETCH_ALLOW_HTTP": ("true", "fetch_allow_http", True),
    "REELAY_FETCH_ALLOW_HOSTS": ('["media.internal", "10.1.2.3"]', "fetch_allow_hosts", ["media.internal", "10.1.2.3"]),
    "REELAY_DEMO": ("1", "demo", True),
    "REELAY_CATALOG_DIRS": ('["/etc/reelay/cards"]', "catalog_dirs", [Path("/etc/reelay/cards")]),
    "REELAY_CONFIG_FILE": ("/etc/reelay/reelay.toml", "config_file", Path("/etc/reelay/reelay.toml")),
    "REELAY_PROVIDER_DEADLINE_SECONDS": ("90", "provider_deadline_seconds", 90.0),
    "REELAY_RETRY_BACKOFF_SECONDS": ("0.25", "retry_backoff_seconds", 0.25),
    "REELAY_DEFAULT_RPM": ("30", "default_rpm", 30),
    "REELAY_DEFAULT_MAX_CONCURRENT": ("2", "default_max_concurrent", 2),
    "REELAY_DEFAULT_BUDGET_USD": ("4.5", "default_budget_usd", 4.5),
    "REELAY_WEBHOOK_ALLOW_HTTP": ("yes", "webhook_allow_http", True),
    "REELAY_WEBHOOK_ALLOW_HOSTS": ('["hooks.internal"]', "webhook_allow_hosts", ["hooks.internal"]),
}
# variable → the commands whose option reads it (the CLI, not Settings, owns these)
READ_BY_COMMANDS: dict[str, tuple[str, ...]] = {
    "REELAY_LOG_FORMAT": ("serve", "worker"),
    "REELAY_BASE_URL": ("models", "generate", "videos list"),
    "REELAY_API_KEY": ("models", "generate", "videos list"),
}


def readme_variables() -> set[str]:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `REELAY_")]
    return {name for cell in rows for name in re.findall(r"REELAY_[A-Z_]+", cell)}


def test_the_readme_table_and_this_test_list_the_same_variables() -> None:
    assert readme_variables() == set(READ_BY_SETTINGS) | set(READ_BY_COMMANDS)


@pytest.mark.parametrize("variable", sorted(READ_BY_SETTINGS))
def test_settings_read_the_variable(variable: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    raw, attribute, expected = READ_BY_SETTINGS[variable]
    default = getattr(Settings(), attribute)
    monkeypatch.setenv(variable, raw)
    assert getattr(Settings(), attribute) == expected != default


def _command(path: str) -> Any:
    command: Any = typer.main.get_command(cli_app)
    for name in path.split():
        command = command.commands[name]
    return command


@pytest.mark.parametrize("variable", sorted(READ_BY_COMMANDS))
def test_commands_read_the_variable(variable: str) -> None:
    for path in READ_BY_COMMANDS[variable]:
        envvars = {p.envvar for p in _command(path).params}
        assert variable in envvars, f"`reelay {path}` does not read {variable}"


def test_a_dotenv_file_in_the_working_directory_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("REELAY_DEFAULT_RPM=2\nREELAY_PUBLIC_URL=https://from-dotenv.example\n")
    assert Settings().public_url == "https://from-dotenv.example"
    monkeypatch.setenv("REELAY_PUBLIC_URL", "https://from-env.example")
    assert Settings().public_url == "https://from-env.example"  # the environment wins over the file
    with reelay(tmp_path / "data") as client:  # the app's own Settings() reads the file too
        admin = create_key(client, admin=True)
        user = bearer(create_key(client, admin))
        assert [client.get("/v1/videos", headers=user).status_code for _ in range(3)] == [200, 200, 429]


def test_default_max_concurrent_limits_keys_without_their_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELAY_DEFAULT_MAX_CONCURRENT", "1")
    with reelay(tmp_path) as client:  # no workers: jobs stay queued, so each one counts
        admin = create_key(client, admin=True)
        default, own = bearer(create_key(client, admin)), bearer(create_key(client, admin, max_concurrent=2))
        assert client.post("/v1/videos", json={"prompt": "one"}, headers=default).status_code == 202
        refused = client.post("/v1/videos", json={"prompt": "two"}, headers=default)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited", refused.text
        assert [client.post("/v1/videos", json={"prompt": p}, headers=own).status_code for p in "ab"] == [202, 202]


def test_catalog_dirs_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    text = (CARDS / "reelay-local.toml").read_text().replace('id = "reelay-local"', 'id = "house-model"')
    text = text.replace('aliases = ["local", "reelay-local-procedural"]', "aliases = []")
    (cards / "house-model.toml").write_text(text)
    monkeypatch.setenv("REELAY_CATALOG_DIRS", json.dumps([str(cards)]))
    settings = Settings(data_dir=tmp_path / "data", local_render_processes=1, run_workers=False)
    with TestClient(create_app(settings)) as client:
        served = [model["id"] for model in client.get("/v1/models").json()["data"]]
        assert "house-model" in served and "reelay-local" in served
        made = client.post("/v1/videos", json={"model": "house-model", "prompt": "a fox"})
        assert made.status_code == 202 and made.json()["model"] == "house-model", made.text


def test_public_url_is_the_base_of_output_links(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELAY_PUBLIC_URL", "https://videos.example.com/gateway/")
    settings = Settings(data_dir=tmp_path, local_render_processes=1)
    with TestClient(create_app(settings), base_url="http://internal:8000") as client:
        video = client.post("/v1/videos", json={"prompt": "a fox", "seconds": 1, "size": "320x180"}).json()["id"]
        deadline = time.monotonic() + 90
        while (body := client.get(f"/v1/videos/{video}").json())["status"] not in ("completed", "failed"):
            assert time.monotonic() < deadline, body
            time.sleep(0.1)
        assert body["status"] == "completed", body
        url = str(body["output"]["url"])
        assert url.startswith("https://videos.example.com/gateway/v1/files/"), url
        assert "internal" not in url
        # The proxy in front strips its prefix: the rest of the link is what Reelay serves, signed.
        served = client.get(url.removeprefix("https://videos.example.com/gateway"))
        assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"


def test_serve_reads_host_port_data_dir_and_text_logs_from_the_environment(tmp_path: Path) -> None:
    """`reelay serve` with no flags at all: where it listens, stores and how it logs come from REELAY_*."""
    port = free_port()
    env = server_env(REELAY_HOST="127.0.0.1", REELAY_PORT=str(port), REELAY_DATA_DIR=str(tmp_path / "data"),
                     REELAY_LOG_FORMAT="text")  # fmt: skip
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [REELAY, "serve"], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    live = LiveServer(tmp_path / "data", port, env, process=process)  # for its stop(): TERM, then KILL
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/v1/videos", timeout=10).is_success
    finally:
        live.stop()
    assert (tmp_path / "data" / "reelay.db").is_file()
    output = log_path.read_text()
    lines = [line for line in output.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert lines, output
    for line in lines:
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) \S+ ", line), line
    assert any("/v1/videos" in line for line in lines), output
    assert not any(line.lstrip().startswith("{") for line in output.splitlines()), output
