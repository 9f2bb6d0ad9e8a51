"""Reelay → OpenAI-compatible adapter → (a vLLM-Omni-like fake | a second, real Reelay), over HTTP.

The second Reelay is the strongest check that the adapter speaks the API Reelay itself serves: it
runs on loopback with its own data directory and renders with its local engine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.providers.base import ProviderJob
from reelay.providers.openai_compatible import OpenAICompatibleProvider
from tests.media_helpers import probe
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.openai_videos_fake import OpenAIVideosFake

WAN = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"
CARDS_DIR = Path(__file__).resolve().parents[2] / "src" / "reelay" / "catalog" / "cards"


def remote_local_card(folder: Path) -> Path:
    """A card routing ``remote-local`` to the openai_compatible provider, upstream model reelay-local."""
    text = (CARDS_DIR / "reelay-local.toml").read_text()
    text = text.replace('id = "reelay-local"', 'id = "remote-local"')
    text = text.replace('provider = "local"', 'provider = "openai_compatible"')
    text = text.replace('aliases = ["local", "reelay-local-procedural"]', "aliases = []")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "remote-local.toml").write_text(text)
    return folder


@pytest.fixture(scope="module")
def upstream_reelay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackServer]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("upstream"), local_render_processes=1)
    with LoopbackServer(create_app(settings), lifespan="on") as server:
        yield server


@pytest.fixture(scope="module")
def front(
    upstream_reelay: LoopbackServer,
    openai_server: tuple[OpenAIVideosFake, LoopbackServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two front gateways: one pointed at the fake, one at the real upstream Reelay."""
    cards = remote_local_card(tmp_path_factory.mktemp("cards"))
    clients = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(OpenAICompatibleProvider, "poll_interval", 0.05)
        patch.setenv("REELAY_OPENAI_COMPATIBLE_API_KEY", "test")
        for base_url in (openai_server[1].url, upstream_reelay.url + "/v1"):
            patch.setenv("REELAY_OPENAI_COMPATIBLE_BASE_URL", base_url)
            settings = Settings(
                data_dir=tmp_path_factory.mktemp("front"), local_render_processes=1, catalog_dirs=[cards]
            )
            client = TestClient(create_app(settings))
            client.__enter__()  # the lifespan reads the environment now
            clients.append(client)
    try:
        yield clients[0], clients[1]
    finally:
        for client in clients:
            client.__exit__(None, None, None)


def finish(client: TestClient, video_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/videos/{video_id}").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{video_id} is stuck")


def content_mp4(client: TestClient, video_id: str, target: Path) -> dict[str, object]:
    response = client.get(f"/v1/videos/{video_id}/content")
    assert response.status_code == 200, response.text
    target.write_bytes(response.content)
    return probe(target)


def test_shipped_wan_card_against_a_vllm_omni_like_server(
    front: tuple[TestClient, TestClient], openai_fake: OpenAIVideosFake, tmp_path: Path
) -> None:
    client, _ = front
    openai_fake.served_model = WAN
    created = client.post("/v1/videos", json={"model": "wan2.2-t2v", "prompt": "a fox", "seconds": 3})
    assert created.status_code == 202, created.text
    body = finish(client, created.json()["id"])
    assert body["status"] == "completed", body
    assert body["metadata"]["provider"] == "openai_compatible"
    assert content_mp4(client, body["id"], tmp_path / "out.mp4")["video_codec"] == "h264"
    create = next(s for s in openai_fake.seen if s.method == "POST")
    assert create.body == {"prompt": "a fox", "model": WAN, "seconds": "3", "size": "848x480"}


def test_failures_through_the_gateway(front: tuple[TestClient, TestClient], openai_fake: OpenAIVideosFake) -> None:
    client, _ = front
    openai_fake.fail_next(method="POST", status=401)
    created = client.post("/v1/videos", json={"model": "wan2.2-t2v", "prompt": "a fox", "seconds": 2})
    body = finish(client, created.json()["id"])
    assert body["status"] == "failed" and body["error"]["code"] == "upstream_auth_failed", body
    openai_fake.outcome = "failed"
    openai_fake.error = {"code": "content_policy_violation", "message": "refused"}
    created = client.post("/v1/videos", json={"model": "wan2.2-t2v", "prompt": "a fox", "seconds": 2})
    body = finish(client, created.json()["id"])
    assert body["status"] == "failed" and body["error"]["code"] == "content_policy_violation", body


def test_text_to_video_through_a_second_reelay(front: tuple[TestClient, TestClient], tmp_path: Path) -> None:
    _, client = front
    created = client.post(
        "/v1/videos", json={"model": "remote-local", "prompt": "hello", "seconds": 1, "size": "320x180"}
    )
    assert created.status_code == 202, created.text
    body = finish(client, created.json()["id"])
    assert body["status"] == "completed", body
    assert body["metadata"]["provider"] == "openai_compatible"
    info = content_mp4(client, body["id"], tmp_path / "out.mp4")
    assert (info["width"], info["height"]) == (320, 180) and info["audio_codec"] == "aac"


def test_image_to_video_through_a_second_reelay(
    front: tuple[TestClient, TestClient], provider_media: Path, tmp_path: Path
) -> None:
    _, client = front
    with open(provider_media / "reference.png", "rb") as image:
        created = client.post(
            "/v1/videos",
            data={"model": "remote-local", "prompt": "push in", "seconds": "1", "size": "320x240"},
            files={"input_reference": ("reference.png", image, "image/png")},
        )
    assert created.status_code == 202, created.text
    body = finish(client, created.json()["id"])
    assert body["status"] == "completed", body
    assert content_mp4(client, body["id"], tmp_path / "out.mp4")["width"] == 320


async def test_video_to_video_adapter_against_a_second_reelay(
    upstream_reelay: LoopbackServer, provider_media: Path, tmp_path: Path
) -> None:
    """A Reelay upstream takes the input video as ``input_video`` (vLLM-Omni: ``input_reference``)."""
    async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
        provider = OpenAICompatibleProvider(
            api_key="k", base_url=upstream_reelay.url, client=http, poll_interval=0.1, video_field="input_video"
        )
        job = ProviderJob(
            video_id="v",
            index=0,
            model="reelay-local",
            mode="v2v",
            prompt="black and white",
            width=320,
            height=240,
            seconds=2.0,
            seed=None,
            video_path=provider_media / "input.mp4",
        )
        upstream_id = await provider.submit(job)
        deadline = time.monotonic() + 120  # the upstream renders in its own process pool: wait on time
        while True:
            result = await provider.poll(upstream_id)
            if result.finished or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert result.state == "succeeded", result
        await provider.fetch_output(upstream_id, result, tmp_path / "out.mp4")
    info = probe(tmp_path / "out.mp4")
    assert abs(float(info["duration"]) - 2.0) <= 0.15  # type: ignore[arg-type]
