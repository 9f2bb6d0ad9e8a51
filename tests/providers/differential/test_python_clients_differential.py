"""Reelay's Veo, fal, Replicate, Runway and Luma adapters against each provider's official Python client.

For each provider the same generation goes through the official client (pointed at a loopback fake)
and through Reelay's adapter (``submit``) to the same strict fake, which records both. The two create
requests must agree on method, path, auth header and every body field, except the fields listed in
the case's ``on_purpose`` with the reason. Clients are test dependencies only (the ``dev`` extra).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reelay.catalog import load_catalog
from reelay.providers.fal import FalProvider
from reelay.providers.luma import LumaProvider
from reelay.providers.replicate import ReplicateProvider
from reelay.providers.runway import RunwayProvider
from reelay.providers.veo import VeoProvider
from tests.providers import remote_harness as h
from tests.providers.fakes.fal_fake import FalFake
from tests.providers.fakes.loopback import LoopbackServer, Seen
from tests.providers.fakes.luma_fake import LumaFake
from tests.providers.fakes.remote_fake import RemoteFake, serve
from tests.providers.fakes.replicate_fake import ReplicateFake
from tests.providers.fakes.runway_fake import RunwayFake
from tests.providers.fakes.veo_fake import VeoFake

CATALOG = load_catalog()


@pytest.fixture(scope="module")
def jpeg(provider_media: Path) -> Path:
    path = provider_media / "python-differential.jpg"
    Image.open(provider_media / "reference.png").convert("RGB").save(path, quality=90)
    return path


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0), trust_env=False) as http:
        yield http


def fake_server(fake_cls: type[RemoteFake], provider_media: Path) -> Iterator[tuple[Any, LoopbackServer]]:
    fake = fake_cls(video=(provider_media / "output.mp4").read_bytes())
    for server in serve(fake.app()):
        yield fake, server


def compare(theirs: Seen, ours: Seen, auth_header: str, on_purpose: dict[str, str]) -> None:
    assert (ours.method, ours.path) == (theirs.method, theirs.path)
    assert ours.headers[auth_header] == theirs.headers[auth_header]
    assert ours.headers["content-type"].split(";")[0] == theirs.headers["content-type"].split(";")[0]
    assert _without(ours.body, on_purpose) == _without(theirs.body, on_purpose)


def _without(body: Any, on_purpose: dict[str, str]) -> Any:
    """``body`` less the dotted paths in ``on_purpose`` (``"input.seed"``)."""
    if not isinstance(body, dict):
        return body
    out = {}
    for key, value in body.items():
        nested = {path.split(".", 1)[1]: why for path, why in on_purpose.items() if path.startswith(f"{key}.")}
        if key not in on_purpose:
            out[key] = _without(value, nested) if nested else value
    return out


def creates(fake: Any, path_prefix: str) -> list[Seen]:
    return [s for s in fake.seen if s.method == "POST" and s.path.startswith(path_prefix)]


# -- Veo: google-genai ------------------------------------------------------------------------------


async def test_veo_matches_google_genai(provider_media: Path, jpeg: Path, client: httpx.AsyncClient) -> None:
    genai = pytest.importorskip("google.genai")
    types = genai.types
    card = CATALOG.get("veo-3")
    for fake, server in fake_server(VeoFake, provider_media):
        sdk = genai.Client(api_key="test", http_options=types.HttpOptions(base_url=server.url, api_version="v1beta"))
        image = types.Image(image_bytes=jpeg.read_bytes(), mime_type="image/jpeg")
        config = types.GenerateVideosConfig(aspect_ratio="16:9", resolution="720p")
        await asyncio.to_thread(
            sdk.models.generate_videos, model=card.upstream_model, prompt="a fox at dawn", image=image, config=config
        )
        job = h.provider_job(
            model=card.upstream_model,
            mode="i2v",
            image_path=jpeg,
            seconds=8.0,
            prompt="a fox at dawn",
            omit=card.omitted("i2v"),
        )
        await VeoProvider(api_key="test", base_url=server.url, client=client).submit(job)
        theirs, ours = creates(fake, "/v1beta/models/")
        compare(theirs, ours, "x-goog-api-key", {})
        assert "durationSeconds" not in ours.body["parameters"]


# -- fal: fal-client --------------------------------------------------------------------------------


@pytest.mark.parametrize("card_id", ["kling-2.1-master", "wan-2.5"])
async def test_fal_matches_fal_client(
    card_id: str, provider_media: Path, jpeg: Path, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fal_client = pytest.importorskip("fal_client")
    card = CATALOG.get(card_id)
    for fake, server in fake_server(FalFake, provider_media):
        # fal_client builds https://{FAL_QUEUE_RUN_HOST}/…; the loopback fake is plain http.
        monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", f"{server.url}/")
        image_uri = "data:image/jpeg;base64," + base64.b64encode(jpeg.read_bytes()).decode()
        endpoint = card.upstream_model.replace("/text-to-video", "/image-to-video")
        arguments: dict[str, Any] = {"prompt": "a fox at dawn", "duration": "5", "image_url": image_uri}
        if card_id == "wan-2.5":
            arguments.update(resolution="1080p", seed=7)
        sdk = fal_client.SyncClient(key="test")
        await asyncio.to_thread(sdk.submit, endpoint, arguments)
        job = h.provider_job(
            model=card.upstream_model,
            mode="i2v",
            image_path=jpeg,
            seconds=5.0,
            prompt="a fox at dawn",
            resolution="1080p",
            seed=7 if card_id == "wan-2.5" else None,
            omit=card.omitted("i2v"),
        )
        await FalProvider(api_key="test", base_url=server.url, client=client).submit(job)
        theirs, ours = creates(fake, "/fal-ai/")
        # Reelay sends aspect_ratio to Wan's image-to-video (the card does not omit it; fal's Wan schema
        # lists it for text-to-video, UNCONFIRMED for image-to-video).
        on_purpose = (
            {"aspect_ratio": "Wan: the card's ratio (UNCONFIRMED on image-to-video)"} if card_id == "wan-2.5" else {}
        )
        compare(theirs, ours, "authorization", on_purpose)


# -- Replicate: replicate ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["small", "large"])
async def test_replicate_matches_replicate_client(
    size: str, provider_media: Path, jpeg: Path, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    replicate = pytest.importorskip("replicate")
    image = jpeg
    if size == "large":  # over Replicate's 1 MB data-URI advice: both sides upload it to /v1/files
        import numpy as np

        image = tmp_path / "noise.jpg"
        rng = np.random.default_rng(3)
        Image.fromarray(rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8)).save(image, quality=100)
    for fake, server in fake_server(ReplicateFake, provider_media):
        sdk = replicate.Client(api_token="test", base_url=server.url)
        strategy = "url" if size == "large" else "base64"
        with image.open("rb") as handle:
            # sdk.models.predictions: replicate-python 1.0.7's top-level predictions.create(model=…) drops
            # file_encoding_strategy and always uploads.
            await asyncio.to_thread(
                sdk.models.predictions.create,
                model="minimax/video-01",
                input={"prompt": "a fox at dawn", "first_frame_image": handle},
                file_encoding_strategy=strategy,
            )
        job = h.provider_job(
            model="minimax/video-01", mode="i2v", image_path=image, seconds=6.0, prompt="a fox at dawn"
        )
        await ReplicateProvider(api_key="test", base_url=server.url, client=client).submit(job)
        theirs, ours = creates(fake, "/v1/models/")
        compare(theirs, ours, "authorization", {"input.first_frame_image": "compared below"})
        their_image, our_image = theirs.body["input"]["first_frame_image"], ours.body["input"]["first_frame_image"]
        if size == "small":
            assert our_image == their_image and our_image.startswith("data:image/jpeg;base64,")
        else:  # each side uploaded once; the file ids differ, the uploads must not
            uploads = creates(fake, "/v1/files")
            assert len(uploads) == 2 and {our_image, their_image} == {u for u in _upload_urls(server.url, fake)}
            (their_type, their_bytes), (our_type, our_bytes) = fake.uploads.values()
            assert (our_type, our_bytes) == (their_type, their_bytes) == ("image/jpeg", image.read_bytes())


def _upload_urls(base: str, fake: ReplicateFake) -> set[str]:
    return {f"{base}/v1/files/{fid}" for fid in fake.uploads}


# -- Runway: runwayml -------------------------------------------------------------------------------


async def test_runway_matches_runwayml(provider_media: Path, jpeg: Path, client: httpx.AsyncClient) -> None:
    runwayml = pytest.importorskip("runwayml")
    for fake, server in fake_server(RunwayFake, provider_media):
        sdk = runwayml.RunwayML(api_key="test", base_url=server.url, max_retries=0)
        image_uri = "data:image/jpeg;base64," + base64.b64encode(jpeg.read_bytes()).decode()
        await asyncio.to_thread(
            sdk.image_to_video.create,
            model="gen4_turbo",
            prompt_image=image_uri,
            prompt_text="a fox at dawn",
            ratio="1280:720",
            duration=5,
            seed=11,
        )
        job = h.provider_job(
            model="gen4_turbo",
            mode="i2v",
            image_path=jpeg,
            seconds=5.0,
            prompt="a fox at dawn",
            width=1280,
            height=720,
            seed=11,
        )
        await RunwayProvider(api_key="test", base_url=server.url, client=client).submit(job)
        theirs, ours = creates(fake, "/v1/image_to_video")
        compare(theirs, ours, "authorization", {})
        assert ours.headers["x-runway-version"] == theirs.headers["x-runway-version"]  # the SDK's default version


async def test_runway_uploads_match_runwayml(provider_media: Path, client: httpx.AsyncClient, tmp_path: Path) -> None:
    """An image over Runway's 5 MB data-URI cap: both sides use Runway's uploads API."""
    runwayml = pytest.importorskip("runwayml")
    import numpy as np

    image = tmp_path / "noise.jpg"
    Image.fromarray(np.random.default_rng(9).integers(0, 256, (2000, 2400, 3), dtype=np.uint8)).save(image, quality=100)
    assert image.stat().st_size > 5_000_000
    for fake, server in fake_server(RunwayFake, provider_media):
        sdk = runwayml.RunwayML(api_key="test", base_url=server.url, max_retries=0)

        def official(sdk: Any = sdk) -> None:
            uri = sdk.uploads.create_ephemeral(file=image).uri
            sdk.image_to_video.create(
                model="gen4_turbo", prompt_image=uri, prompt_text="a fox at dawn", ratio="1280:720", duration=5
            )

        await asyncio.to_thread(official)
        job = h.provider_job(
            model="gen4_turbo",
            mode="i2v",
            image_path=image,
            seconds=5.0,
            prompt="a fox at dawn",
            width=1280,
            height=720,
        )
        await RunwayProvider(api_key="test", base_url=server.url, client=client).submit(job)
        their_start, ours_start = creates(fake, "/v1/uploads")
        compare(their_start, ours_start, "authorization", {})
        their_put, our_put = creates(fake, "/upload-bucket/")
        assert "authorization" not in their_put.headers and "authorization" not in our_put.headers
        theirs, ours = creates(fake, "/v1/image_to_video")
        compare(theirs, ours, "authorization", {"promptImage": "each side's own upload; the bytes are compared"})
        assert theirs.body["promptImage"] != ours.body["promptImage"]
        assert list(fake.uploads.values()) == [image.read_bytes()] * 2


# -- Luma: lumaai -----------------------------------------------------------------------------------


@dataclass
class _Files:
    """A loopback file host standing in for Reelay's signed /v1/files links."""

    files: dict[str, Path]
    url: str = ""

    def url_for(self, path: Path) -> str | None:
        return next((f"{self.url}/{name}" for name, file in self.files.items() if file == path), None)


def _file_host(files: dict[str, Path]) -> Iterator[_Files]:
    async def serve_file(request: Request) -> Response:
        return Response(files[request.path_params["name"]].read_bytes())

    with LoopbackServer(Starlette(routes=[Route("/{name}", serve_file)])) as server:
        yield _Files(files, server.url)


async def test_luma_matches_lumaai(provider_media: Path, jpeg: Path, client: httpx.AsyncClient) -> None:
    lumaai = pytest.importorskip("lumaai")
    for host in _file_host({"frame.jpg": jpeg}):
        for fake, server in fake_server(LumaFake, provider_media):
            sdk = lumaai.LumaAI(auth_token="test", base_url=f"{server.url}/dream-machine/v1", max_retries=0)
            keyframes = {"frame0": {"type": "image", "url": f"{host.url}/frame.jpg"}}
            await asyncio.to_thread(
                sdk.generations.video.create,
                prompt="a fox at dawn",
                model="ray-2",
                duration="5s",
                aspect_ratio="16:9",
                resolution="720p",
                keyframes=keyframes,
            )
            job = h.provider_job(model="ray-2", mode="i2v", image_path=jpeg, seconds=5.0, prompt="a fox at dawn")
            provider = LumaProvider(api_key="test", base_url=server.url, client=client, links=host)  # type: ignore[arg-type]
            await provider.submit(job)
            theirs, ours = creates(fake, "/dream-machine/v1/generations")
            compare(theirs, ours, "authorization", {})
