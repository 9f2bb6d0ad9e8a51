"""Operations against a real ``reelay serve``: /metrics, JSON logs with request ids and no secrets,
health probes, and an OpenAPI schema that documents the real bodies (extras included)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from reelay.api.request_context import access_level
from reelay.logs import redact
from tests.conftest import LiveServer, wait_until_finished


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for got, v in found.get(name, []) if all(got.get(k) == want for k, want in labels.items()))


def test_metrics_count_requests_jobs_and_bytes(client: httpx.Client) -> None:
    created = client.post("/v1/videos", json={"prompt": "metrics", "seconds": 1, "size": "128x128"})
    assert created.status_code == 202
    assert wait_until_finished(client, created.json()["id"])["status"] == "completed"
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert value(found, "reelay_http_requests_total", route="/v1/videos", method="POST", status="202") >= 1
    assert value(found, "reelay_http_requests_total", route="/v1/videos/{video_id}", method="GET") >= 1
    assert value(found, "reelay_jobs_finished_total", model="reelay-local", provider="local", status="completed") >= 1
    assert value(found, "reelay_job_duration_seconds_count", status="completed") >= 1
    assert value(found, "reelay_provider_latency_seconds_count", provider="local") >= 1
    assert value(found, "reelay_output_bytes_stored_total", provider="local") > 0
    assert value(found, "reelay_jobs", status="completed") >= 1
    assert "reelay_queue_depth" in found
    assert "# TYPE reelay_webhook_deliveries_total counter" in response.text


def test_request_id_is_echoed_or_generated(client: httpx.Client) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "trace-42"}).headers["X-Request-ID"] == "trace-42"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) >= 16
    assert client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["X-Request-ID"] != (
        "bad id\twith spaces"
    )


def test_logs_are_json_lines_with_ids_and_no_secrets(client: httpx.Client, server: LiveServer) -> None:
    secret = "rly_secretkeyid.s3cr3tv4lue-never-logged"
    response = client.get("/v1/videos/video_missing", headers={"Authorization": f"Bearer {secret}",
                                                               "X-Request-ID": "log-test-1"})  # fmt: skip
    assert response.status_code == 404
    done = wait_until_finished(
        client, client.post("/v1/videos", json={"prompt": "log me", "seconds": 1, "size": "128x128"}).json()["id"]
    )
    assert server.log_path is not None
    text = server.log_path.read_text()
    assert "s3cr3tv4lue" not in text and "rly_secretkeyid" not in text
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert entries and all({"time", "level", "logger", "message", "request_id", "job_id"} <= e.keys() for e in entries)
    access = [e for e in entries if e["request_id"] == "log-test-1"]
    assert access and access[0]["route"] == "/v1/videos/{video_id}" and access[0]["status"] == 404
    assert any(e["job_id"] == done["id"] and e["message"] == "job completed" for e in entries)


def test_redaction_covers_keys_bearer_tokens_and_signatures() -> None:
    line = "Authorization: Bearer abc.def rly_k1.s2 xai-0123456789abcdef /v1/files/x?expires=1&signature=deadbeef"
    cleaned = redact(line)
    for leaked in ("abc.def", "rly_k1", "xai-0123456789abcdef", "deadbeef"):
        assert leaked not in cleaned
    assert "expires=1" in cleaned


@pytest.mark.parametrize(
    "secret",
    [
        "BEARER Zq8Wx1",
        "Basic Zq8Wx1",
        "rly_Zq8Wx1",
        "sk-Zq8Wx1abcdef",
        "r8_Zq8Wx1abcdef",
        "xai_Zq8Wx1abcdef",
        "API_KEY=Zq8Wx1",
        "apikey=Zq8Wx1",
        "Token=Zq8Wx1",
        "SECRET=Zq8Wx1",
        "password=Zq8Wx1",
        "Signature=Zq8Wx1",
    ],
)
def test_each_secret_shape_is_redacted_alone_and_in_a_line(secret: str) -> None:
    """The cheap pre-check in ``redact`` must never let a shape the patterns know pass unredacted."""
    for text in (secret, f"GET /v1/videos 200 {secret} done"):
        assert "[redacted]" in redact(text) and "Zq8Wx1" not in redact(text)


def test_health_probes(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "storage": "ok"}


def test_openapi_documents_the_real_bodies(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    create = schema["paths"]["/v1/videos"]["post"]
    content = create["requestBody"]["content"]
    for media_type in ("application/json", "multipart/form-data"):
        assert content[media_type]["schema"]["$ref"] == "#/components/schemas/CreateVideoBody"
    body = components["CreateVideoBody"]["properties"]
    assert {"prompt", "model", "seconds", "size", "aspect_ratio", "resolution", "n", "seed", "input_reference",
            "input_video"} <= body.keys()  # fmt: skip
    response = create["responses"]["202"]["content"]["application/json"]["schema"]
    assert response["$ref"] == "#/components/schemas/VideoObject"
    video = components["VideoObject"]["properties"]
    assert {"id", "status", "progress", "output", "metadata", "error", "expires_at"} <= video.keys()
    assert {"results", "url", "thumbnail_url"} <= components["VideoOutputObject"]["properties"].keys()
    assert {"normalization", "cost_estimate", "provider"} <= components["VideoMetadata"]["properties"].keys()
    assert "/metrics" in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_successful_polls_log_at_debug_and_everything_else_at_info() -> None:
    assert access_level("GET", "/v1/videos/{video_id}", 200) == logging.DEBUG
    assert access_level("GET", "/openai/v1/videos/{video_id}", 200) == logging.DEBUG
    assert access_level("GET", "/healthz", 200) == logging.DEBUG
    for failed in (401, 404, 429, 503):
        assert access_level("GET", "/v1/videos/{video_id}", failed) == logging.INFO
    assert access_level("DELETE", "/v1/videos/{video_id}", 200) == logging.INFO
    assert access_level("POST", "/v1/videos", 202) == logging.INFO


def test_provider_requests_are_not_logged_one_line_each_at_info() -> None:
    """httpx logs every request at info; the relay's thousands of polls a minute must not flood the
    log. ``--log-level debug`` still shows each one. Run in a child: logging is process-wide."""
    check = (
        "import logging\nfrom reelay.logs import configure_logging\n"
        "configure_logging('info')\nprint(logging.getLogger('httpx').isEnabledFor(logging.INFO), "
        "logging.getLogger('httpx').isEnabledFor(logging.WARNING))\n"
        "configure_logging('debug')\nprint(logging.getLogger('httpx').isEnabledFor(logging.INFO))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "True", "True"], result.stderr
