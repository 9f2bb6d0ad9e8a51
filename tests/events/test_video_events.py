"""``GET /v1/videos/{id}/events`` against a real ``reelay serve``: a job's events to ``completed``,
resuming with ``Last-Event-ID``, and per-key isolation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.clients.conftest import KeyedServer, keyed_server
from tests.conftest import LiveServer
from tests.events.sse_client import stream_events

__all__ = ["keyed_server"]

FINISHED = {"completed", "failed", "cancelled"}


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def test_events_follow_a_job_to_completed(client: httpx.Client) -> None:
    created = client.post("/v1/videos", json={"prompt": "a lighthouse at dusk", "seconds": 2, "size": "320x180"})
    assert created.status_code == 202, created.text
    video_id = created.json()["id"]
    response, events = stream_events(client, f"/v1/videos/{video_id}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert events, "no events"
    bodies = [event.json() for event in events]
    statuses = [body["status"] for body in bodies]
    assert statuses[-1] == "completed" and all(s not in FINISHED for s in statuses[:-1]), statuses
    assert all(body["id"] == video_id and body["object"] == "video" for body in bodies)
    progress = [body["progress"] for body in bodies]
    assert progress == sorted(progress) and progress[-1] == 100, progress
    # each event differs from the one before in status or progress, and its id names that state
    states = [(b["status"], b["progress"]) for b in bodies]
    assert len(set(states)) == len(states), states
    assert [event.id for event in events] == [f"{s}.{p}" for s, p in states]
    # the last event is the video object exactly as GET answers it (signed links aside)
    final = client.get(f"/v1/videos/{video_id}").json()
    last = bodies[-1]
    assert last["output"]["size"] == final["output"]["size"] == "320x180"
    for key in ("id", "model", "status", "progress", "size", "seconds", "prompt", "error"):
        assert last[key] == final[key], key
    # metadata too, but for the cost: the ledger settles just after the job ends, so the ending's own
    # event may still show the hold (a GET a moment later shows it settled)
    assert last["metadata"]["cost"]["estimate"] == final["metadata"]["cost"]["estimate"]
    assert {k: v for k, v in last["metadata"].items() if k != "cost"} == {
        k: v for k, v in final["metadata"].items() if k != "cost"
    }


def test_resume_with_last_event_id(client: httpx.Client) -> None:
    created = client.post("/openai/v1/videos", json={"prompt": "snow", "seconds": 1, "size": "160x90"})
    video_id = created.json()["id"]
    _, events = stream_events(client, f"/openai/v1/videos/{video_id}/events")
    assert events[-1].json()["status"] == "completed"
    # reconnecting after the terminal event: 204, which tells EventSource to stop reconnecting
    response, again = stream_events(client, f"/v1/videos/{video_id}/events", {"Last-Event-ID": events[-1].id or ""})
    assert response.status_code == 204 and again == []
    # reconnecting from an earlier state: only what changed since, which here is the end
    response, rest = stream_events(client, f"/v1/videos/{video_id}/events", {"Last-Event-ID": "in_progress.1"})
    assert response.status_code == 200
    assert [event.json()["status"] for event in rest] == ["completed"]


def test_unknown_video_is_404_in_the_openai_shape(client: httpx.Client) -> None:
    response = client.get("/v1/videos/video_doesnotexist/events")
    assert response.status_code == 404
    assert response.json()["error"]["param"] == "video_id"


def test_another_keys_video_is_404(keyed_server: KeyedServer) -> None:
    admin = {"Authorization": f"Bearer {keyed_server.key}"}
    with httpx.Client(base_url=keyed_server.url, timeout=30) as http:
        other = http.post("/v1/admin/keys", json={"name": "other"}, headers=admin)
        assert other.status_code == 201, other.text
        stranger = {"Authorization": f"Bearer {other.json()['key']}"}
        created = http.post("/v1/videos", json={"prompt": "mine", "seconds": 1, "size": "160x90"}, headers=admin)
        video_id = created.json()["id"]
        assert http.get(f"/v1/videos/{video_id}/events").status_code == 401
        response, _ = stream_events(http, f"/v1/videos/{video_id}/events", stranger)
        assert response.status_code == 404
        response, events = stream_events(http, f"/v1/videos/{video_id}/events", admin)
        assert response.status_code == 200 and events[-1].json()["status"] == "completed"
