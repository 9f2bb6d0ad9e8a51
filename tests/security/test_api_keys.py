"""API keys: shown once, stored as hashes, checked on every route but health, docs and signed links."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from reelay.cli.main import app as cli
from tests.security.keyed import bearer, create_key, key_id, reelay

KEY_FORMAT = re.compile(r"^rly_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$")


def test_no_keys_means_open_as_before(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        assert client.get("/v1/videos").status_code == 200
        assert client.post("/v1/videos", json={"prompt": "a fox", "seconds": 1}).status_code == 202
        assert client.get("/v1/webhooks/secret").json()["secret"].startswith("whsec_")


def test_keys_are_shown_once_and_stored_as_hashes(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        admin = create_key(client, admin=True, name="ops")
        assert KEY_FORMAT.match(admin), admin
        listed = client.get("/v1/admin/keys", headers=bearer(admin)).json()["data"]
        assert [k["id"] for k in listed] == [key_id(admin)] and listed[0]["admin"] is True
        assert "key" not in listed[0] and admin.split(".")[1] not in str(listed)
    database = sqlite3.connect(tmp_path / "reelay.db")
    rows = database.execute("SELECT id, secret_hash FROM api_keys").fetchall()
    database.close()
    assert len(rows) == 1 and rows[0][0] == key_id(admin)
    assert admin.split(".")[1] not in str(rows) and len(rows[0][1]) == 64  # SHA-256 hex only
    assert admin.encode() not in (tmp_path / "reelay.db").read_bytes()


def test_bearer_is_required_once_a_key_exists(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        admin = create_key(client, admin=True)
        for path in ("/v1/videos", "/v1/models", "/openai/v1/videos", "/v1/webhooks/secret", "/v1/admin/keys"):
            response = client.get(path)
            assert response.status_code == 401, (path, response.text)
            error = response.json()["error"]
            assert error["code"] == "authentication_failed" and "Authorization: Bearer" in error["message"]
        for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
            assert client.get(path).status_code == 200, path
        assert client.get("/v1/videos", headers=bearer(admin)).status_code == 200
        assert client.get("/v1/videos", headers={"Authorization": admin}).status_code == 401  # no scheme
        wrong = admin[:-4] + ("aaaa" if not admin.endswith("aaaa") else "bbbb")
        assert client.get("/v1/videos", headers=bearer(wrong)).json()["error"]["code"] == "authentication_failed"
        malformed = client.get("/v1/videos", headers=bearer("sk-not-a-reelay-key"))
        assert malformed.status_code == 401 and "rly_" in malformed.json()["error"]["message"]


def test_revoked_keys_and_non_admins(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        admin = create_key(client, admin=True)
        user = create_key(client, admin, name="app")
        assert client.get("/v1/videos", headers=bearer(user)).status_code == 200
        forbidden = client.get("/v1/admin/keys", headers=bearer(user))
        assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "permission_denied"
        assert client.post("/v1/admin/keys", json={}, headers=bearer(user)).status_code == 403
        revoked = client.delete(f"/v1/admin/keys/{key_id(user)}", headers=bearer(admin))
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        denied = client.get("/v1/videos", headers=bearer(user))
        assert denied.status_code == 401 and "revoked" in denied.json()["error"]["message"]
        missing = client.delete("/v1/admin/keys/0123456789abcdef", headers=bearer(admin))
        assert missing.status_code == 404
        bad = client.post("/v1/admin/keys", json={"rpm": 0}, headers=bearer(admin))
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "rpm"


def test_revoking_every_key_locks_rather_than_opens(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        admin = create_key(client, admin=True)
        assert client.delete(f"/v1/admin/keys/{key_id(admin)}", headers=bearer(admin)).status_code == 200
        assert client.get("/v1/videos").status_code == 401


def test_cli_create_list_revoke(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    created = runner.invoke(cli, ["keys", "create", "--name", "ci", "--rpm", "30", "--budget-usd", "2.5", *data])
    assert created.exit_code == 0, created.output
    token = next(line for line in created.output.splitlines() if line.startswith("rly_"))
    assert KEY_FORMAT.match(token)
    listed = runner.invoke(cli, ["keys", "list", *data])
    assert listed.exit_code == 0 and key_id(token) in listed.output and token.split(".")[1] not in listed.output
    with reelay(tmp_path) as client:  # a running server sees CLI-made keys and revocations at once
        assert client.get("/v1/videos", headers=bearer(token)).status_code == 200
        revoked = runner.invoke(cli, ["keys", "revoke", key_id(token), *data])
        assert revoked.exit_code == 0, revoked.output
        assert client.get("/v1/videos", headers=bearer(token)).status_code == 401
    unknown = runner.invoke(cli, ["keys", "revoke", "0123456789abcdef", *data])
    assert unknown.exit_code == 1 and "no API key" in unknown.output
