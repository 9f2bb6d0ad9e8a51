"""Hosted inputs end to end: Luma fetches its start frame from Reelay's own signed ``/v1/files`` link.

Reelay runs as a real loopback server with ``public_url`` set (what ``REELAY_PUBLIC_URL`` does), the
strict Luma fake refuses data URIs and fetches the keyframe URL itself, so the image must really be
served, with its real type, by Reelay. Without a public URL, the same create is a 400 naming what to
set, and nothing reaches Luma.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reelay.api.app import create_app
from reelay.config import Settings
from reelay.providers.luma import LumaProvider
from tests.conftest import free_port
from tests.providers import remote_harness as h
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.luma_fake import LumaFake
from tests.providers.fakes.media_rules import sniff
from tests.providers.fakes.remote_fake import serve


@pytest.fixture(scope="module")
def luma(provider_media: Path) -> Iterator[tuple[LumaFake, LoopbackServer]]:
    fake = LumaFake(video=(provider_media / "output.mp4").read_bytes())
    for server in serve(fake.app()):
        yield fake, server


@pytest.fixture(scope="module")
def reelay(luma: tuple[LumaFake, LoopbackServer], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LUMAAI_API_KEY", "test")
        patch.setenv("LUMA_BASE_URL", luma[1].url)
        patch.setattr(LumaProvider, "poll_interval", 0.05)
        port = free_port()
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("reelay-hosted"),
            local_render_processes=1,
            public_url=f"http://127.0.0.1:{port}",
        )
        with LoopbackServer(create_app(settings), lifespan="on", port=port) as server:
            yield server.url


def test_luma_image_to_video_fetches_a_signed_link_from_reelay(
    reelay: str, luma: tuple[LumaFake, LoopbackServer], provider_media: Path, tmp_path: Path
) -> None:
    fake = luma[0]
    fake.reset()
    with httpx.Client(base_url=reelay, timeout=30.0) as client, open(provider_media / "reference.png", "rb") as image:
        created = client.post(
            "/v1/videos",
            data={"model": "ray-2", "prompt": "a fox", "seconds": "5"},
            files={"input_reference": ("reference.png", image, "image/png")},
        )
        assert created.status_code == 202, created.text
        body = h.finish(client, created.json()["id"])  # type: ignore[arg-type]
        assert body["status"] == "completed", body
        (create,) = fake.creates()
        url = create.body["keyframes"]["frame0"]["url"]
        assert url.startswith(f"{reelay}/v1/files/inputs/{body['id']}/") and "signature=" in url
        fetched = client.get(url)
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
        assert sniff(fetched.content) == "image/png"
        entries = [e for e in body["metadata"]["normalization"] if e["param"] == "input_reference"]
        assert any(e["value"] == "url" for e in entries), entries


def test_without_a_public_url_luma_image_to_video_is_a_400(
    luma: tuple[LumaFake, LoopbackServer], provider_media: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake = luma[0]
    fake.reset()
    env = {"LUMAAI_API_KEY": "test", "LUMA_BASE_URL": luma[1].url}
    for client in h.app_client(tmp_path_factory, env, LumaProvider):
        with open(provider_media / "reference.png", "rb") as image:
            response = client.post(
                "/v1/videos",
                data={"model": "ray-2", "prompt": "a fox"},
                files={"input_reference": ("reference.png", image, "image/png")},
            )
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == "input_reference" and "REELAY_PUBLIC_URL" in error["message"]
        # text-to-video needs no link and still works
        assert client.post("/v1/videos", json={"model": "ray-2", "prompt": "a fox"}).status_code == 202
    assert [c for c in fake.creates() if "keyframes" in (c.body or {})] == []


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JPEG of about 6 MB (noise does not compress): over Runway's 5 MB and Replicate's 1 MB."""
    import numpy as np
    from PIL import Image

    path = tmp_path_factory.mktemp("big-input") / "noise.jpg"
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (2000, 2400, 3), dtype=np.uint8)).save(path, quality=100)
    return path


def test_runway_image_over_five_megabytes_is_uploaded_to_runway(
    provider_media: Path, big_jpeg: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from reelay.providers.runway import RunwayProvider
    from tests.providers.fakes.runway_fake import RunwayFake

    fake = RunwayFake(video=(provider_media / "output.mp4").read_bytes())
    for server in serve(fake.app()):
        env = {"RUNWAYML_API_SECRET": "test", "RUNWAY_BASE_URL": server.url}
        for client in h.app_client(tmp_path_factory, env, RunwayProvider):
            with open(big_jpeg, "rb") as image:
                created = client.post(
                    "/v1/videos",
                    data={"model": "gen4_turbo", "prompt": "push in"},
                    files={"input_reference": ("noise.jpg", image, "image/jpeg")},
                )
            assert created.status_code == 202, created.text
            body = h.finish(client, created.json()["id"])
            assert body["status"] == "completed", body
            notes = [e["note"] for e in body["metadata"]["normalization"] if e["value"] == "url"]
            assert notes and "5.0 MB" in notes[0]
        (create,) = [c for c in fake.creates() if c.path == "/v1/image_to_video"]
        assert create.body["promptImage"].startswith("runway://")
        assert list(fake.uploads.values()) == [big_jpeg.read_bytes()]


def test_replicate_image_over_one_megabyte_is_uploaded_to_replicate(
    provider_media: Path, big_jpeg: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from reelay.providers.replicate import ReplicateProvider
    from tests.providers.fakes.replicate_fake import ReplicateFake

    fake = ReplicateFake(video=(provider_media / "output.mp4").read_bytes())
    for server in serve(fake.app()):
        env = {"REPLICATE_API_TOKEN": "test", "REPLICATE_BASE_URL": server.url}
        for client in h.app_client(tmp_path_factory, env, ReplicateProvider):
            with open(big_jpeg, "rb") as image:
                created = client.post(
                    "/v1/videos",
                    data={"model": "minimax-video-01", "prompt": "push in"},
                    files={"input_reference": ("noise.jpg", image, "image/jpeg")},
                )
            assert created.status_code == 202, created.text
            body = h.finish(client, created.json()["id"])
            assert body["status"] == "completed", body
        (create,) = [c for c in fake.creates() if c.path.endswith("/predictions")]
        assert create.body["input"]["first_frame_image"].startswith(f"{server.url}/v1/files/")
        assert list(fake.uploads.values()) == [("image/jpeg", big_jpeg.read_bytes())]
