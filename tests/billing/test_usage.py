"""``GET /v1/usage`` and ``reelay usage``: the ledger's spend, holds and refunds, grouped, and only your own."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from reelay.cli.main import app
from tests.billing.harness import settled
from tests.conftest import LiveServer, free_port, server_env
from tests.security.keyed import bearer, create_key, key_id, reelay

PRICED = {"model": "grok-imagine-video", "prompt": "a fox", "seconds": 5}  # $0.25 in demo mode


def ledger_totals(data_dir: Path) -> dict[str, float]:
    database = sqlite3.connect(data_dir / "reelay.db")
    try:
        row = database.execute(
            "SELECT sum(CASE WHEN state = 'settled' THEN charged_usd ELSE 0 END), "
            "sum(CASE WHEN state = 'held' THEN held_usd ELSE 0 END), "
            "sum(CASE WHEN state = 'released' THEN held_usd ELSE 0 END), count(*) FROM billing_ledger"
        ).fetchone()
    finally:
        database.close()
    return {"spent": row[0] or 0.0, "held": row[1] or 0.0, "refunded": row[2] or 0.0, "jobs": row[3]}


def test_usage_totals_equal_the_ledger_and_keys_see_only_their_own(tmp_path: Path) -> None:
    with reelay(tmp_path, demo=True) as client:  # no workers: jobs stay held until cancelled
        admin_token = create_key(client, admin=True)
        admin = bearer(admin_token)
        alice, bob = bearer(create_key(client, admin_token)), bearer(create_key(client, admin_token))
        alice_videos = [client.post("/v1/videos", json=PRICED, headers=alice).json()["id"] for _ in range(2)]
        client.post("/v1/videos", json={**PRICED, "seconds": 8}, headers=bob)
        client.post("/v1/videos", json={"prompt": "free", "seconds": 1}, headers=bob)
        assert client.post(f"/v1/videos/{alice_videos[0]}/cancel", headers=alice).status_code == 200

        everyone = client.get("/v1/usage", headers=admin).json()
        ledger = ledger_totals(tmp_path)
        assert everyone["totals"] == {key: round(value, 6) for key, value in ledger.items()}
        assert everyone["totals"] == {"spent": 0.0, "held": 0.25 + 0.4, "refunded": 0.25, "jobs": 4}
        assert {line["key"] for line in everyone["data"]} == {key_id(t["Authorization"][7:]) for t in (alice, bob)}
        for line in everyone["data"]:
            assert set(line) == {"key", "model", "provider", "day", "spent", "held", "refunded", "jobs"}
            assert line["day"] == time.strftime("%Y-%m-%d", time.gmtime())

        own = client.get("/v1/usage", headers=alice).json()
        assert own["totals"] == {"spent": 0.0, "held": 0.25, "refunded": 0.25, "jobs": 2}
        assert {line["key"] for line in own["data"]} == {key_id(alice["Authorization"][7:])}
        bob_id = key_id(bob["Authorization"][7:])
        assert client.get(f"/v1/usage?key={bob_id}", headers=admin).json()["totals"]["jobs"] == 2
        refused = client.get(f"/v1/usage?key={bob_id}", headers=alice)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
        bad = client.get("/v1/usage?start=yesterday", headers=admin)
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "start"
        assert client.get("/v1/usage?start=2000-01-01&end=2000-01-02", headers=admin).json()["totals"]["jobs"] == 0
        assert client.get("/v1/usage").status_code == 401


def test_reelay_usage_prints_the_servers_ledger(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", free_port(), server_env(REELAY_DEMO="true"))
    live.start()
    try:
        token = httpx.post(f"{live.url}/v1/admin/keys", json={"admin": True}, timeout=30).json()["key"]
        with httpx.Client(base_url=live.url, headers=bearer(token), timeout=30) as http:
            created = http.post("/v1/videos", json={**PRICED, "seconds": 1, "size": "320x180"})
            assert created.status_code == 202, created.text
            body = settled(http, created.json()["id"], bearer(token))
        assert body["metadata"]["cost"]["state"] == "settled"
        runner = CliRunner()
        env = {"REELAY_BASE_URL": live.url, "REELAY_API_KEY": token, "COLUMNS": "200"}
        result = runner.invoke(app, ["usage", "--json"], env=env)
        assert result.exit_code == 0, result.output
        usage = json.loads(result.stdout)
        assert usage["totals"]["jobs"] == 1 and usage["totals"]["spent"] == body["metadata"]["cost"]["settled"]
        table = runner.invoke(app, ["usage"], env=env)
        assert table.exit_code == 0 and "grok-imagine-video" in table.stdout and "total" in table.stdout
    finally:
        live.stop()
