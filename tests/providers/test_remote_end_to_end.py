"""Reelay → each remote adapter → its loopback fake, driven over HTTP: the whole path, only the
provider faked. The app is built as in production (``create_app``) and finds each provider through
its key and base-URL variables at start-up. One table row per provider: what to send, and what the
provider must receive on the wire."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelay.providers.fal import FalProvider
from reelay.providers.luma import LumaProvider
from reelay.providers.replicate import ReplicateProvider
from reelay.providers.runway import RunwayProvider
from reelay.providers.veo import VeoProvider
from tests.providers import remote_harness as h
from tests.providers.fakes.fal_fake import FalFake
from tests.providers.fakes.loopback import Seen
from tests.providers.fakes.luma_fake import LumaFake
from tests.providers.fakes.remote_fake import RemoteFake, serve
from tests.providers.fakes.replicate_fake import ReplicateFake
from tests.providers.fakes.runway_fake import RunwayFake
from tests.providers.fakes.veo_fake import VeoFake


def check_veo(sent: Seen) -> None:
    assert sent.path == "/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    assert sent.body == {  # no durationSeconds: the Gemini API refuses it for Veo 3 (the card omits it)
        "instances": [{"prompt": "a fox"}],
        "parameters": {"aspectRatio": "16:9", "resolution": "1080p"},
    }


def check_fal(sent: Seen) -> None:
    assert sent.path == "/fal-ai/kling-video/v2.1/master/image-to-video"  # the image job's sibling endpoint
    assert sent.body["duration"] == "10" and sent.body["image_url"].startswith("data:image/png;base64,")
    assert "resolution" not in sent.body and "aspect_ratio" not in sent.body  # not in Kling i2v's schema


def check_replicate(sent: Seen) -> None:
    assert sent.path == "/v1/models/minimax/video-01/predictions"
    assert set(sent.body["input"]) == {"prompt", "first_frame_image"}  # only the model's declared inputs


def check_runway(sent: Seen) -> None:
    assert sent.path == "/v1/image_to_video"
    assert (sent.body["model"], sent.body["ratio"], sent.body["duration"]) == ("gen4_turbo", "1104:832", 5)


def check_luma(sent: Seen) -> None:
    assert sent.body == {
        "prompt": "a fox",
        "model": "ray-2",
        "duration": "9s",
        "aspect_ratio": "21:9",
        "resolution": "720p",
    }


@dataclass(frozen=True)
class Case:
    provider: str  # metadata.provider of the finished job
    adapter: type
    fake: type[RemoteFake]
    key_env: str
    base_url_env: str
    request: dict[str, Any]
    with_image: bool
    create_path: str  # where a scripted 401 is injected
    check_sent: Callable[[Seen], None]


CASES = [
    Case(
        "gemini",
        VeoProvider,
        VeoFake,
        "GEMINI_API_KEY",
        "GEMINI_BASE_URL",
        {"model": "veo-3", "prompt": "a fox", "seconds": 8, "size": "1920x1080"},
        False,
        "/v1beta/models/",
        check_veo,
    ),
    Case(
        "fal",
        FalProvider,
        FalFake,
        "FAL_KEY",
        "FAL_BASE_URL",
        {"model": "kling-2.1-master", "prompt": "a fox", "seconds": 10},
        True,
        "/fal-ai/",
        check_fal,
    ),
    Case(
        "replicate",
        ReplicateProvider,
        ReplicateFake,
        "REPLICATE_API_TOKEN",
        "REPLICATE_BASE_URL",
        {"model": "minimax-video-01", "prompt": "a fox"},
        True,
        "/v1/models/minimax",
        check_replicate,
    ),
    Case(
        "runway",
        RunwayProvider,
        RunwayFake,
        "RUNWAYML_API_SECRET",
        "RUNWAY_BASE_URL",
        {"model": "gen4_turbo", "prompt": "slow push in", "seconds": 5},
        True,
        "/v1/image_to_video",
        check_runway,
    ),
    Case(
        "luma",
        LumaProvider,
        LumaFake,
        "LUMAAI_API_KEY",
        "LUMA_BASE_URL",
        {"model": "ray-2", "prompt": "a fox", "seconds": 9, "aspect_ratio": "21:9"},
        False,
        "/dream-machine/",
        check_luma,
    ),
]


@dataclass
class Running:
    case: Case
    fake: RemoteFake
    client: TestClient


@pytest.fixture(scope="module", params=CASES, ids=[c.provider for c in CASES])
def running(
    request: pytest.FixtureRequest, provider_media: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    case: Case = request.param
    fake = case.fake(video=(provider_media / "output.mp4").read_bytes())
    for server in serve(fake.app()):
        env = {case.key_env: "test", case.base_url_env: server.url}
        for client in h.app_client(tmp_path_factory, env, case.adapter):
            yield Running(case, fake, client)


@pytest.fixture
def remote(running: Running) -> Iterator[Running]:
    running.fake.reset()
    yield running
    running.fake.reset()


def create(remote: Running, provider_media: Path) -> str:
    fields, client = remote.case.request, remote.client
    if remote.case.with_image:
        with open(provider_media / "reference.png", "rb") as handle:
            response = client.post(
                "/v1/videos",
                data={k: str(v) for k, v in fields.items()},
                files={"input_reference": ("reference.png", handle, "image/png")},
            )
    else:
        response = client.post("/v1/videos", json=fields)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_generation_completes(remote: Running, provider_media: Path, tmp_path: Path) -> None:
    video_id = create(remote, provider_media)
    h.assert_completed_with_mp4(remote.client, h.finish(remote.client, video_id), remote.case.provider, tmp_path)
    (sent,) = remote.fake.creates()
    remote.case.check_sent(sent)


@pytest.mark.parametrize("failure", ["moderated", "unauthorized", "output_expired"])
def test_failures_end_in_a_clean_failed_job(remote: Running, provider_media: Path, failure: str) -> None:
    code = {
        "moderated": "content_policy_violation",
        "unauthorized": "upstream_auth_failed",
        "output_expired": "upstream_output_expired",
    }[failure]
    if failure == "unauthorized":
        remote.fake.fail_next(method="POST", path=remote.case.create_path, status=401)
    remote.fake.outcome = "moderated" if failure == "moderated" else "done"
    remote.fake.output_expired = failure == "output_expired"
    video_id = create(remote, provider_media)
    h.assert_failed(remote.client, h.finish(remote.client, video_id), code)
