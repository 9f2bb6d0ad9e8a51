"""Holds settle at the provider's real cost, or come back in full, driven over HTTP with xAI faked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.billing.harness import GROK, keys, ledger_rows, settled, spent, xai_reelay
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.xai_fake import XAIFake


def test_a_completed_xai_job_settles_at_the_cost_xai_reported(
    xai_server: tuple[XAIFake, LoopbackServer], xai_fake: XAIFake, tmp_path: Path
) -> None:
    xai_fake.cost_ticks = 1_234_000_000  # $0.1234, not the $0.25 estimate
    with xai_reelay(xai_server, tmp_path) as client:
        admin, user = keys(client, budget_usd=1.0)
        created = client.post("/v1/videos", json=GROK, headers=user)
        assert created.status_code == 202, created.text
        cost = created.json()["metadata"]["cost"]
        assert cost == {
            "estimate": 0.25,
            "settled": None,
            "currency": "USD",
            "state": "held",
            "basis": None,
            "reason": None,
            "if_cancelled": cost["if_cancelled"],
        }
        assert spent(client, admin, user) == 0.25  # the hold counts against the budget at once
        body = settled(client, created.json()["id"], user)
        assert body["status"] == "completed"
        cost = body["metadata"]["cost"]
        assert (cost["estimate"], cost["settled"]) == (0.25, 0.1234)
        assert (cost["state"], cost["basis"]) == ("settled", "reported")
        assert spent(client, admin, user) == pytest.approx(0.1234)
        metrics = client.get("/metrics", headers=admin).text  # keys exist: /metrics wants an admin key
        assert 'reelay_spend_usd_total{model="grok-imagine-video",provider="xai"}' in metrics
    assert ledger_rows(tmp_path) == [(body["id"], "settled", 0.25, pytest.approx(0.1234))]


def test_an_upstream_server_error_releases_the_hold(
    xai_server: tuple[XAIFake, LoopbackServer], xai_fake: XAIFake, tmp_path: Path
) -> None:
    xai_fake.outcome = "failed"  # xAI's own internal_error on every attempt: a server fault, retried, then final
    with xai_reelay(xai_server, tmp_path) as client:
        admin, user = keys(client, budget_usd=1.0)
        video = client.post("/v1/videos", json=GROK, headers=user).json()["id"]
        body = settled(client, video, user)
        assert body["status"] == "failed" and body["error"]["code"] == "upstream_failed", body
        cost = body["metadata"]["cost"]
        assert (cost["settled"], cost["state"]) == (0.0, "released")
        assert "not charged" in cost["reason"]
        assert spent(client, admin, user) == 0.0  # the whole hold came back
        usage = client.get("/v1/usage", headers=user).json()
        assert usage["totals"] == {"spent": 0.0, "held": 0.0, "refunded": 0.25, "jobs": 1}
    assert len(xai_fake.creates()) > 1  # it really was retried upstream before it failed


def test_a_moderated_xai_video_keeps_the_hold(
    xai_server: tuple[XAIFake, LoopbackServer], xai_fake: XAIFake, tmp_path: Path
) -> None:
    xai_fake.outcome = "moderated"  # the card: xAI bills moderation-blocked outputs
    with xai_reelay(xai_server, tmp_path) as client:
        admin, user = keys(client, budget_usd=1.0)
        video = client.post("/v1/videos", json=GROK, headers=user).json()["id"]
        body = settled(client, video, user)
        assert body["error"]["code"] == "content_policy_violation"
        cost = body["metadata"]["cost"]
        assert (cost["settled"], cost["state"], cost["basis"]) == (0.25, "settled", "hold")
        assert spent(client, admin, user) == 0.25


def test_a_local_video_settles_at_price_times_delivered_seconds(
    xai_server: tuple[XAIFake, LoopbackServer], tmp_path: Path
) -> None:
    with xai_reelay(xai_server, tmp_path) as client:
        _, user = keys(client)
        video = client.post("/v1/videos", json={"prompt": "a fox", "seconds": 1, "size": "320x180"}, headers=user)
        body = settled(client, video.json()["id"], user)
        assert body["status"] == "completed"
        cost = body["metadata"]["cost"]
        assert (cost["settled"], cost["state"], cost["basis"]) == (0.0, "settled", "computed")  # the engine is free


def test_cancelling_a_running_xai_video_says_and_charges_what_xai_bills(
    xai_server: tuple[XAIFake, LoopbackServer], xai_fake: XAIFake, tmp_path: Path
) -> None:
    xai_fake.pending_polls = 10_000  # xAI keeps it running; it has no cancel endpoint, so it bills
    with xai_reelay(xai_server, tmp_path) as client:
        admin, user = keys(client, budget_usd=1.0)
        video = client.post("/v1/videos", json=GROK, headers=user).json()["id"]
        deadline = time.monotonic() + 30
        while not xai_fake.creates() or client.get(f"/v1/videos/{video}", headers=user).json()["progress"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        running = client.get(f"/v1/videos/{video}", headers=user).json()
        assert running["status"] == "in_progress" and running["metadata"]["cost"]["if_cancelled"] == 0.25
        assert client.post(f"/v1/videos/{video}/cancel", headers=user).status_code in (200, 202)
        body = settled(client, video, user)
        assert body["status"] == "cancelled"
        cost = body["metadata"]["cost"]
        assert (cost["settled"], cost["state"], cost["basis"]) == (0.25, "settled", "hold")
        assert "cancelled while running" in cost["reason"]
        assert spent(client, admin, user) == 0.25


def test_remix_refuses_a_deadline_rather_than_sending_it_upstream(
    xai_server: tuple[XAIFake, LoopbackServer], tmp_path: Path
) -> None:
    with xai_reelay(xai_server, tmp_path) as client:
        _, user = keys(client)
        video = client.post("/v1/videos", json={"prompt": "a fox", "seconds": 1, "size": "320x180"}, headers=user)
        done = settled(client, video.json()["id"], user)
        remix = client.post(f"/v1/videos/{done['id']}/remix", json={"prompt": "b", "deadline_seconds": 5}, headers=user)
        assert remix.status_code == 400 and remix.json()["error"]["param"] == "deadline_seconds"
