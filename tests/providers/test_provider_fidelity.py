"""Issue 12's per-provider items, each against its strict fake: the request the old adapter sent is
refused there, and the fixed adapter's request goes through.

- Replicate ``aborted`` is terminal (fails the run at once, retryable as a fresh submission).
- Replicate images over 1 MB go through ``POST /v1/files``; smaller ones stay data URIs.
- Veo 3.0 gets no ``durationSeconds``; the image's ``mimeType`` is its real type.
- fal Kling receives only the fields its schema declares.
- Runway images over 5 MB go through Runway's uploads API (``runway://`` URIs), never as data URIs.
- Luma gets a hosted URL for ``keyframes.frame0`` and never a data URI.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from reelay.catalog import load_catalog
from reelay.errors import UpstreamError
from reelay.providers.fal import FalProvider
from reelay.providers.luma import LumaProvider
from reelay.providers.luma import build_request as luma_request
from reelay.providers.replicate import ReplicateProvider, parse_prediction
from reelay.providers.runway import RunwayProvider
from reelay.providers.runway import build_request as runway_request
from reelay.providers.veo import VeoProvider
from reelay.providers.veo import build_request as veo_request
from tests.providers import remote_harness as h
from tests.providers.fakes import fal_fake, veo_fake
from tests.providers.fakes.fal_fake import FalFake
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.luma_fake import LumaFake
from tests.providers.fakes.remote_fake import serve
from tests.providers.fakes.replicate_fake import ReplicateFake
from tests.providers.fakes.runway_fake import RunwayFake
from tests.providers.fakes.veo_fake import VeoFake

CATALOG = load_catalog()


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JPEG of about 6 MB: noise does not compress."""
    path = tmp_path_factory.mktemp("big") / "noise.jpg"
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (2000, 2400, 3), dtype=np.uint8)).save(path, quality=100)
    assert os.path.getsize(path) > 5_000_000
    return path


@pytest.fixture(scope="module")
def jpeg(provider_media: Path) -> Path:
    path = provider_media / "reference-as.jpg"
    Image.open(provider_media / "reference.png").convert("RGB").save(path, quality=90)
    return path


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0), trust_env=False) as http:
        yield http


def running(fake_cls: type, provider_media: Path) -> Iterator[tuple[object, LoopbackServer]]:
    fake = fake_cls(video=(provider_media / "output.mp4").read_bytes())
    for server in serve(fake.app()):
        yield fake, server


# -- Replicate ------------------------------------------------------------------------------------


def test_replicate_aborted_is_terminal() -> None:
    result = parse_prediction({"id": "p", "status": "aborted"}, 1.0)
    assert result.state == "failed" and result.error is not None
    assert result.error.code == "upstream_aborted" and result.error.retryable


async def test_replicate_aborted_ends_the_run_against_the_fake(provider_media: Path, client: httpx.AsyncClient) -> None:
    for fake, server in running(ReplicateFake, provider_media):
        provider = ReplicateProvider(api_key="test", base_url=server.url, client=client, poll_interval=0.01)
        fake.outcome = "aborted"  # type: ignore[attr-defined]
        upstream_id = await provider.submit(h.provider_job(model="minimax/video-01", seconds=6.0))
        result = await h.run_to_end(provider, upstream_id)
        assert result.state == "failed" and result.error is not None and result.error.code == "upstream_aborted"


async def test_replicate_uploads_images_over_one_megabyte(
    provider_media: Path, big_jpeg: Path, jpeg: Path, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    for fake, server in running(ReplicateFake, provider_media):
        provider = ReplicateProvider(api_key="test", base_url=server.url, client=client, poll_interval=0.01)
        job = h.provider_job(model="minimax/video-01", seconds=6.0, mode="i2v", image_path=big_jpeg)
        await h.round_trip(provider, job, tmp_path / "out.mp4")
        (upload,) = [s for s in fake.seen if s.path == "/v1/files"]  # type: ignore[attr-defined]
        assert upload.headers["authorization"] == "Bearer test"
        (create,) = [c for c in fake.creates() if c.path != "/v1/files"]  # type: ignore[attr-defined]
        assert create.body["input"]["first_frame_image"].endswith("/v1/files/file_0")
        stored_type, stored = fake.uploads["file_0"]  # type: ignore[attr-defined]
        assert stored == big_jpeg.read_bytes() and stored_type == "image/jpeg"
        fake.reset()  # type: ignore[attr-defined]
        small = h.provider_job(model="minimax/video-01", seconds=6.0, mode="i2v", image_path=jpeg)
        await h.round_trip(provider, small, tmp_path / "out2.mp4")
        (create,) = fake.creates()  # type: ignore[attr-defined]
        assert create.body["input"]["first_frame_image"].startswith("data:image/jpeg;base64,")


# -- Veo ------------------------------------------------------------------------------------------


def test_veo_3_card_omits_duration_seconds_and_labels_the_image(jpeg: Path) -> None:
    card = CATALOG.get("veo-3")
    job = h.provider_job(model=card.upstream_model, seconds=8.0, mode="i2v", image_path=jpeg, omit=card.omitted("i2v"))
    _path, body = veo_request(job)
    assert "durationSeconds" not in body["parameters"]
    assert body["instances"][0]["image"]["mimeType"] == "image/jpeg"
    assert veo_fake.validate(body, veo_fake.MODELS["veo-3.0-generate-001"]) is None
    old = {**body, "parameters": {**body["parameters"], "durationSeconds": 8}}
    assert "isn't supported" in (veo_fake.validate(old, veo_fake.MODELS["veo-3.0-generate-001"]) or "")
    mislabelled = {
        **body,
        "instances": [{**body["instances"][0], "image": {**body["instances"][0]["image"], "mimeType": "image/png"}}],
    }
    assert veo_fake.validate(mislabelled, set()) is not None


async def test_veo_round_trip_with_the_card(
    provider_media: Path, jpeg: Path, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    card = CATALOG.get("veo-3")
    for _fake, server in running(VeoFake, provider_media):
        provider = VeoProvider(api_key="test", base_url=server.url, client=client, poll_interval=0.01)
        job = h.provider_job(
            model=card.upstream_model, seconds=8.0, mode="i2v", image_path=jpeg, omit=card.omitted("i2v")
        )
        await h.round_trip(provider, job, tmp_path / "out.mp4")


# -- fal Kling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["t2v", "i2v"])
async def test_fal_kling_gets_only_declared_fields(
    provider_media: Path, jpeg: Path, client: httpx.AsyncClient, tmp_path: Path, mode: str
) -> None:
    card = CATALOG.get("kling-2.1-master")
    for fake, server in running(FalFake, provider_media):
        provider = FalProvider(api_key="test", base_url=server.url, client=client, poll_interval=0.01)
        job = h.provider_job(
            model=card.upstream_model,
            mode=mode,
            seconds=5.0,
            resolution="1080p",
            seed=None,
            image_path=jpeg if mode == "i2v" else None,
            omit=card.omitted(mode),
        )  # type: ignore[arg-type]
        await h.round_trip(provider, job, tmp_path / "out.mp4")
        (create,) = fake.creates()  # type: ignore[attr-defined]
        assert set(create.body) <= fal_fake.DECLARED[create.path.lstrip("/")]
        assert "resolution" not in create.body and "seed" not in create.body
        assert ("aspect_ratio" in create.body) == (mode == "t2v")
    with_resolution = {"prompt": "p", "duration": "5", "resolution": "1080p"}
    assert fal_fake.validate("fal-ai/kling-video/v2.1/master/text-to-video", with_resolution) is not None


# -- Runway ---------------------------------------------------------------------------------------


def test_runway_never_inlines_an_image_over_five_megabytes(big_jpeg: Path) -> None:
    job = h.provider_job(model="gen4_turbo", mode="i2v", image_path=big_jpeg, width=1280, height=720)
    with pytest.raises(UpstreamError) as caught:
        runway_request(job)
    assert caught.value.code == "input_too_large"
    assert runway_request(job, "runway://uploads/u0")[1]["promptImage"] == "runway://uploads/u0"


async def test_runway_uploads_an_image_over_five_megabytes(
    provider_media: Path, big_jpeg: Path, jpeg: Path, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    for fake, server in running(RunwayFake, provider_media):
        provider = RunwayProvider(api_key="test", base_url=server.url, client=client, poll_interval=0.01)
        job = h.provider_job(model="gen4_turbo", mode="i2v", image_path=big_jpeg, width=1280, height=720)
        await h.round_trip(provider, job, tmp_path / "out.mp4")
        start, put, create = fake.creates()  # type: ignore[attr-defined]
        assert (start.path, start.body) == ("/v1/uploads", {"filename": "noise.jpg", "type": "ephemeral"})
        assert put.path == "/upload-bucket/u0" and "authorization" not in put.headers  # presigned: no secret
        assert create.body["promptImage"] == "runway://uploads/u0"
        assert fake.uploads["u0"] == big_jpeg.read_bytes()  # type: ignore[attr-defined]
        fake.reset()  # type: ignore[attr-defined]
        small = h.provider_job(model="gen4_turbo", mode="i2v", image_path=jpeg, width=1280, height=720)
        await h.round_trip(provider, small, tmp_path / "out2.mp4")
        (create,) = fake.creates()  # type: ignore[attr-defined]
        assert create.body["promptImage"].startswith("data:image/jpeg;base64,")


class StaticLinks:
    """An ``InputLinks`` stand-in serving files from a loopback server (what Reelay's /v1/files does)."""

    def __init__(self, base: str, files: dict[str, Path]) -> None:
        self.base, self.files = base, files

    def url_for(self, path: Path) -> str | None:
        for name, file in self.files.items():
            if file == path:
                return f"{self.base}/{name}"
        return None


def file_server(files: dict[str, Path]) -> Iterator[LoopbackServer]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def serve_file(request: Request) -> Response:
        return Response(files[request.path_params["name"]].read_bytes())

    with LoopbackServer(Starlette(routes=[Route("/{name}", serve_file)])) as server:
        yield server


# -- Luma -----------------------------------------------------------------------------------------


def test_luma_never_sends_a_data_uri(jpeg: Path) -> None:
    job = h.provider_job(model="ray-2", mode="i2v", image_path=jpeg)
    with pytest.raises(UpstreamError) as caught:
        luma_request(job)
    assert caught.value.code == "input_not_hostable"


async def test_luma_image_to_video_with_a_hosted_link(
    provider_media: Path, jpeg: Path, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    files = {"frame.jpg": jpeg}
    for host in file_server(files):
        for fake, server in running(LumaFake, provider_media):
            provider = LumaProvider(
                api_key="test",
                base_url=server.url,
                client=client,
                poll_interval=0.01,
                links=StaticLinks(host.url, files),
            )  # type: ignore[arg-type]
            job = h.provider_job(model="ray-2", mode="i2v", image_path=jpeg, seconds=5.0)
            await h.round_trip(provider, job, tmp_path / "out.mp4")
            (create,) = fake.creates()  # type: ignore[attr-defined]
            assert create.body["keyframes"]["frame0"] == {"type": "image", "url": f"{host.url}/frame.jpg"}
