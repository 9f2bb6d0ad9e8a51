"""Without keys, `reelay serve` binds loopback only; other addresses are refused before binding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reelay.cli.keys import is_loopback_host
from reelay.cli.main import app as cli


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.fixture
def binds(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run replaced: these tests must never bind anything, least of all a public address."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append(kwargs))
    return calls


def test_no_keys_refuses_a_public_address(tmp_path: Path, binds: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "refusing to listen on 0.0.0.0" in said and "reelay keys create --admin" in said
    assert binds == []


def test_no_keys_serves_loopback_and_says_so(tmp_path: Path, binds: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "no API keys configured: serving on loopback (127.0.0.1) only" in said
    assert binds and binds[0]["host"] == "127.0.0.1"


def test_with_keys_any_address_is_allowed(tmp_path: Path, binds: list[dict[str, Any]]) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "create", "--admin", "--data-dir", str(tmp_path)]).exit_code == 0
    result = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "API keys are configured" in " ".join(result.output.split()) and binds[0]["host"] == "0.0.0.0"
