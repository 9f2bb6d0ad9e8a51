"""Webhooks: URL rules at submit and at delivery, Standard Webhooks signatures, retries, restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from reelay.jobs.store import JobStore, make_engine
from reelay.jobs.webhook_delivery import DeliveryLoop, WebhookListener
from reelay.security.webhooks import WebhookSecrets, sign, webhook_policy
from tests.security.keyed import Receiver, bearer, create_key, reelay, stub_resolver
from tests.security.test_security_doc import doc_verifier

FAST = {"webhook_allow_http": True, "webhook_allow_hosts": ["127.0.0.1"], "webhook_retry_delays": [0.05, 0.05, 0.05]}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def delivery_rows(client: TestClient) -> list[Any]:
    async def read() -> list[Any]:
        async with client.app.state.ctx.service.store.engine.connect() as connection:  # type: ignore[attr-defined]
            rows = await connection.execute(text("SELECT status, attempts, last_error FROM webhook_deliveries"))
            return list(rows.all())

    return client.portal.call(read)  # type: ignore[union-attr]


def test_standard_webhooks_test_vector() -> None:
    """The example from the Standard Webhooks specification's reference libraries."""
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "http"),
        ("https://93.184.216.34/x", "IP address"),
        ("https://[2606:4700::1111]/x", "IP address"),
        ("https://2130706433/x", "IP address"),
        ("https://localhost/x", "local or cloud-metadata"),
        ("https://metadata.google.internal/x", "local or cloud-metadata"),
        ("https://db.private-test/x", "private address 10.0.0.5"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("ftp://hooks.example.com/x", "scheme"),
        ("not a url", "scheme"),
        (12, "https URL"),
    ],
)
def test_webhook_url_is_checked_at_submit(tmp_path: Path, url: object, why: str) -> None:
    with reelay(tmp_path) as client:
        response = client.post("/v1/videos", json={"prompt": "x", "webhook_url": url})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == "webhook_url" and why in error["message"], error
        assert client.get("/v1/videos").json()["data"] == []  # refused before any job existed


def test_webhook_url_is_consumed_not_passed_upstream(tmp_path: Path) -> None:
    with reelay(tmp_path) as client:
        created = client.post("/v1/videos", json={"prompt": "x", "webhook_url": "https://hooks.example.com/in"})
        assert created.status_code == 202, created.text
        job = client.portal.call(client.app.state.ctx.service.store.get, created.json()["id"])  # type: ignore[union-attr,attr-defined]
        assert "webhook_url" not in str(job.spec.to_json()) and "webhook_url" not in str(job.report)


def test_completed_event_is_signed_and_verifiable(tmp_path: Path, receiver: Receiver) -> None:
    with reelay(tmp_path, run_workers=True, **FAST) as client:
        admin = create_key(client, admin=True)
        user = bearer(create_key(client, admin))
        created = client.post(
            "/v1/videos",
            json={"prompt": "hello", "seconds": 1, "size": "320x180", "webhook_url": receiver.url},
            headers=user,
        )
        assert created.status_code == 202, created.text
        wait_for(lambda: receiver.received)
        secret = client.get("/v1/webhooks/secret", headers=user).json()["secret"]
        assert secret != client.get("/v1/webhooks/secret", headers=bearer(admin)).json()["secret"]  # per key
    event = receiver.received[0]
    assert event.headers["webhook-id"].startswith("msg_") and event.headers["content-type"] == "application/json"
    assert doc_verifier()(secret, event.headers, event.body) is True
    assert doc_verifier()(secret, event.headers, event.body.replace(b"completed", b"failed")) is False
    body = event.json()
    assert body["type"] == "video.completed"
    data = body["data"]
    assert data["object"] == "video" and data["id"] == created.json()["id"] and data["status"] == "completed"
    assert data["model"] == "reelay-local" and data["error"] is None and "/v1/files/" in data["output"]["url"]
    assert len(receiver.received) == 1


def test_cancelled_and_failed_events(tmp_path: Path, receiver: Receiver) -> None:
    with reelay(tmp_path, **FAST) as client:
        hook = {"webhook_url": receiver.url}
        cancelled = client.post("/v1/videos", json={"prompt": "a", **hook}).json()["id"]
        assert client.post(f"/v1/videos/{cancelled}/cancel").json()["status"] == "cancelled"
        wait_for(lambda: len(receiver.received) == 1)
        failed = client.post("/v1/videos", json={"prompt": "b", **hook}).json()["id"]
        store = client.app.state.ctx.service.store  # type: ignore[attr-defined]
        worker = client.app.state.worker  # type: ignore[attr-defined]
        client.portal.call(store.fail, failed, None, "upstream_error", "the provider broke")  # type: ignore[union-attr]
        job = client.portal.call(store.get, failed)  # type: ignore[union-attr]
        client.portal.call(worker.notify, job)  # type: ignore[union-attr]  # the JobListener seam
        wait_for(lambda: len(receiver.received) == 2)
    events = {r.json()["data"]["id"]: r.json() for r in receiver.received}
    assert events[cancelled]["type"] == "video.cancelled" and events[cancelled]["data"]["output"] is None
    assert events[failed]["type"] == "video.failed"
    assert events[failed]["data"]["error"] == {"code": "upstream_error", "message": "the provider broke"}


def deliveries_counted(outcome: str) -> float:
    from reelay.api.metrics import REGISTRY

    return REGISTRY.get_sample_value("reelay_webhook_deliveries_total", {"outcome": outcome}) or 0.0


def test_retries_then_delivers_then_gives_up(tmp_path: Path, receiver: Receiver) -> None:
    before = {o: deliveries_counted(o) for o in ("delivered", "retry", "gave_up")}
    receiver.statuses = [500, 503]
    with reelay(tmp_path, **FAST) as client:
        first = client.post("/v1/videos", json={"prompt": "a", "webhook_url": receiver.url}).json()["id"]
        client.post(f"/v1/videos/{first}/cancel")
        wait_for(lambda: [r[0] for r in delivery_rows(client)] == ["delivered"])
        assert delivery_rows(client)[0][1] == 3 and len(receiver.received) == 3
        assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # retries keep the message id
        receiver.statuses = [500] * 10
        second = client.post("/v1/videos", json={"prompt": "b", "webhook_url": receiver.url}).json()["id"]
        client.post(f"/v1/videos/{second}/cancel")
        wait_for(lambda: sorted(r[0] for r in delivery_rows(client)) == ["delivered", "failed"])
        failed = next(r for r in delivery_rows(client) if r[0] == "failed")
        assert failed[1] == 4 and "HTTP 500" in failed[2]  # 1 attempt + 3 retries
    counted = {o: deliveries_counted(o) - before[o] for o in before}
    assert counted == {"delivered": 1, "retry": 2 + 3, "gave_up": 1}  # the /metrics counter saw each attempt


def test_pending_deliveries_survive_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    with reelay(tmp_path, **FAST) as client:
        video = client.post("/v1/videos", json={"prompt": "a", "webhook_url": receiver.url}).json()["id"]
        client.portal.call(client.app.state.ctx.service.store.cancel, video, None)  # type: ignore[union-attr,attr-defined]

    async def enqueue_while_down() -> None:  # the worker's listener ran, then the process died
        store = JobStore(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'reelay.db'}"))
        job = await store.get(video)
        assert job is not None
        await WebhookListener(store.engine, lambda _: None).job_finished(job)
        await store.close()

    asyncio.run(enqueue_while_down())
    assert receiver.received == []
    with reelay(tmp_path, **FAST):
        wait_for(lambda: receiver.received)
    assert receiver.received[0].json()["type"] == "video.cancelled"


async def test_the_url_is_checked_again_at_delivery(tmp_path: Path) -> None:
    """DNS changed after submit: the delivery is refused before any connection is opened."""
    with reelay(tmp_path) as client:
        created = client.post("/v1/videos", json={"prompt": "a", "webhook_url": "https://hooks.example.com/in"})
        assert created.status_code == 202  # public at submit (stub DNS)
    store = JobStore(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'reelay.db'}"))
    await store.cancel(created.json()["id"], None)
    job = await store.get(created.json()["id"])
    assert job is not None
    await WebhookListener(store.engine, lambda _: None).job_finished(job)

    async def rebound(host: str, port: int) -> list[str]:
        return ["10.0.0.7"] if host == "hooks.example.com" else await stub_resolver(host, port)

    policy = webhook_policy(allow_http=False, allowed_hosts=frozenset(), timeout=5)
    loop = DeliveryLoop(store.engine, WebhookSecrets(store.engine), policy, retry_delays=(), resolver=rebound)
    assert await loop.run_once() == 1
    async with store.engine.connect() as connection:
        row = (await connection.execute(text("SELECT status, last_error FROM webhook_deliveries"))).one()
    await store.close()
    assert row[0] == "failed" and "private address 10.0.0.7" in row[1]


def test_deleting_a_queued_video_sends_video_cancelled(tmp_path: Path, receiver: Receiver) -> None:
    """No worker ends a queued job that is deleted, so the service reports the ending itself."""
    with reelay(tmp_path, **FAST) as client:
        video_id = client.post("/v1/videos", json={"prompt": "a", "webhook_url": receiver.url}).json()["id"]
        assert client.delete(f"/v1/videos/{video_id}").json()["deleted"] is True
        wait_for(lambda: len(receiver.received) == 1)
        assert client.get(f"/v1/videos/{video_id}").status_code == 404
    event = receiver.received[0].json()
    assert event["type"] == "video.cancelled" and event["data"]["id"] == video_id
