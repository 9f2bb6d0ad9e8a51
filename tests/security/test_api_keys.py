"""API keys: shown once, stored as hashes, checked on every route but health, docs and signed links."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from reelay.cli.main import app as cli
from reelay.errors import AuthenticationFailed, InvalidRequest, NotFound
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.store import make_engine
from reelay.security import keys
from reelay.security.keys import KeyLimits, KeyStore, split_token, validate_limits
from reelay.security.models import ApiKeyRow
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


# The rules of keys.py in isolation: the token's shape, the limits a key may have, the stored row.

KEY_ID = "0123456789abcdef"


@pytest.mark.parametrize(
    "token",
    [
        f"sk_{KEY_ID}.secret",  # not a Reelay key
        f"rly_{KEY_ID}secret",  # no dot
        f"rly_{KEY_ID}.",  # no secret
        f"rly_{KEY_ID[:-1]}.secret",  # 15 hex characters
        f"rly_{KEY_ID}0.secret",  # 17
        f"rly_{KEY_ID.upper()}.secret",  # ids are lower-case hex
        f"rly_{KEY_ID[:-1]}g.secret",
        f"rly_{KEY_ID[:-1]}X.secret",
        f"rly_{KEY_ID}.{'s' * 129}",  # longer than any secret Reelay makes
    ],
)
def test_tokens_of_the_wrong_shape_are_not_split(token: str) -> None:
    assert split_token(token) is None


def test_a_token_splits_into_id_and_secret() -> None:
    assert split_token(f"rly_{KEY_ID}.{'s' * 128}") == (KEY_ID, "s" * 128)
    assert split_token(f"rly_{KEY_ID}.a.b") == (KEY_ID, "a.b")


@pytest.mark.parametrize(
    ("limits", "param", "message"),
    [
        (KeyLimits(rpm=0), "rpm", "rpm must be at least 1 (leave it out for the server default)"),
        (KeyLimits(max_concurrent=0), "max_concurrent", "max_concurrent must be at least 1"),
        (KeyLimits(budget_usd=-0.01), "budget_usd", "budget_usd must be a non-negative number of dollars"),
        (KeyLimits(budget_usd=1e12), "budget_usd", "budget_usd must be a non-negative number of dollars"),
    ],
)
def test_nonsense_limits_are_refused_with_the_field_named(limits: KeyLimits, param: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        validate_limits(limits)
    assert refused.value.param == param and refused.value.message == message


def test_the_smallest_sensible_limits_are_accepted() -> None:
    validate_limits(KeyLimits())
    validate_limits(KeyLimits(rpm=1, max_concurrent=1, budget_usd=0.0))
    validate_limits(KeyLimits(budget_usd=1e12 - 1))


@pytest.fixture
async def key_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite database of its own for the key store."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    yield engine
    await engine.dispose()


async def test_the_key_store_keeps_hashes_limits_and_use(key_engine: AsyncEngine) -> None:
    store = KeyStore(key_engine)
    assert not await store.any_configured()
    before = time.time()
    key, token = await store.create(name="n" * 300, admin=True, limits=KeyLimits(3, 2, 1.5))
    assert split_token(token) == (key.id, token.split(".", 1)[1]) and KEY_FORMAT.match(token)
    stored = await store.get(key.id)
    assert stored is not None and stored.id == key.id and stored.name == "n" * 200 and stored.admin
    assert stored.limits == KeyLimits(rpm=3, max_concurrent=2, budget_usd=1.5) and stored.spent_usd == 0.0
    assert before <= stored.created_at <= time.time() and stored.revoked_at is None and stored.last_used_at is None
    assert (await store.verify(token)).id == key.id and await store.any_configured()
    await store.touch(key.id)
    used = (await store.get(key.id)).last_used_at  # type: ignore[union-attr]
    assert used is not None and used >= before
    await store.touch(key.id)  # within the minute: not written again
    assert (await store.get(key.id)).last_used_at == used  # type: ignore[union-attr]
    revoked = await store.revoke(key.id)
    assert revoked.revoked_at is not None and (await store.revoke(key.id)).revoked_at == revoked.revoked_at
    with pytest.raises(AuthenticationFailed, match=f"the API key {key.id} was revoked"):
        await store.verify(token)
    with pytest.raises(NotFound) as unknown:
        await store.revoke(KEY_ID)
    assert unknown.value.param == "id" and await store.get(KEY_ID) is None
    plain, _ = await store.create()
    assert plain.name == "" and not plain.admin and plain.limits == KeyLimits()
    # Listed oldest first, whatever the ids: creation times set against the ids' order.
    by_id = sorted([key.id, plain.id])
    for offset, listed_id in enumerate(reversed(by_id)):
        async with key_engine.begin() as connection:
            await connection.execute(update(ApiKeyRow).where(ApiKeyRow.id == listed_id).values(created_at=offset))
    assert [k.id for k in await store.list()] == list(reversed(by_id))


async def test_verify_names_what_is_wrong_with_a_token(key_engine: AsyncEngine) -> None:
    store = KeyStore(key_engine)
    key, token = await store.create()
    with pytest.raises(AuthenticationFailed) as malformed:
        await store.verify("sk-not-a-reelay-key")
    assert malformed.value.message == (
        "the API key is malformed; Reelay keys look like rly_<id>.<secret> (create one with `reelay keys create`)"
    )
    for wrong in (f"rly_{KEY_ID}.{token.split('.', 1)[1]}", f"{token}x"):  # an unknown id; a wrong secret
        with pytest.raises(AuthenticationFailed) as invalid:
            await store.verify(wrong)
        assert invalid.value.message == "the API key is not valid; check it or create a new one"
    await store.touch(key.id)
    stale = time.time() - 60.1  # last used just over a minute ago: the next use is written
    async with key_engine.begin() as connection:
        await connection.execute(update(ApiKeyRow).where(ApiKeyRow.id == key.id).values(last_used_at=stale))
    await store.touch(key.id)
    assert (await store.get(key.id)).last_used_at > stale  # type: ignore[operator,union-attr]


class _Clock:
    """keys.py's clock: a monotonic time the test moves, the real wall time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()


async def test_no_keys_is_cached_for_a_second_then_asked_again(
    key_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded default pays no query per request; a key made by another process (``reelay keys
    create`` next to a running server) switches authentication on within the second."""
    clock = _Clock()
    monkeypatch.setattr(keys, "time", clock)
    server, cli_process = KeyStore(key_engine), KeyStore(key_engine)
    assert not await server.any_configured()
    await cli_process.create(name="first")
    clock.now += 0.5
    assert not await server.any_configured()  # the "no" is still cached
    clock.now += 0.5
    assert await server.any_configured()  # a second later it is asked again
