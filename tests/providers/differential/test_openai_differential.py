"""Reelay's OpenAI-compatible adapter against the official ``openai`` Python client, on one recording fake.

The same generation goes through ``client.videos.create`` and through ``OpenAICompatibleProvider.submit``;
the fake (multipart only, as vLLM-Omni) records both. They must agree on method, path,
``Authorization``, content type, every form field and the uploaded file (field name, type, bytes),
except the fields in ``ON_PURPOSE``.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from reelay.providers.base import ProviderJob
from reelay.providers.openai_compatible import OpenAICompatibleProvider
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.openai_videos_fake import OpenAIVideosFake

openai = pytest.importorskip("openai")

# Fields one side sends on purpose: Reelay sends ``seed`` when the card takes one (vLLM-Omni reads it;
# OpenAI's Videos API has no seed). The jobs below carry no seed, so today the sets are equal.
ON_PURPOSE: dict[str, str] = {"seed": "a vLLM-Omni field the OpenAI client does not know"}


@pytest.fixture(scope="module")
def jpeg(provider_media: Path) -> Path:
    path = provider_media / "openai-differential.jpg"
    Image.open(provider_media / "reference.png").convert("RGB").resize((1280, 720)).save(path, quality=90)
    return path


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0), trust_env=False) as http:
        yield http


def official_create(base_url: str, kwargs: dict[str, Any]) -> str:
    sdk = openai.OpenAI(api_key="test", base_url=base_url, max_retries=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the Sora shutdown notice
        return str(sdk.videos.create(**kwargs).id)


@pytest.mark.parametrize("with_image", [False, True], ids=["text-to-video", "image-to-video"])
async def test_reelay_sends_what_the_openai_client_sends(
    with_image: bool,
    openai_server: tuple[OpenAIVideosFake, LoopbackServer],
    openai_fake: OpenAIVideosFake,
    jpeg: Path,
    client: httpx.AsyncClient,
) -> None:
    base_url = openai_server[1].url + "/v1"
    kwargs: dict[str, Any] = {"model": "wan", "prompt": "a fox at dawn", "seconds": "4", "size": "1280x720"}
    if with_image:
        kwargs["input_reference"] = jpeg.open("rb")
    try:
        await asyncio.to_thread(official_create, base_url, kwargs)
    finally:
        if with_image:
            kwargs["input_reference"].close()
    job = ProviderJob(
        video_id="video_d",
        index=0,
        model="wan",
        mode="i2v" if with_image else "t2v",
        prompt="a fox at dawn",
        width=1280,
        height=720,
        seconds=4.0,
        seed=None,
        image_path=jpeg if with_image else None,
    )
    provider = OpenAICompatibleProvider(api_key="test", base_url=base_url, client=client)
    await provider.submit(job)

    theirs, ours = [s for s in openai_fake.seen if s.method == "POST"]
    assert (ours.method, ours.path) == (theirs.method, theirs.path) == ("POST", "/v1/videos")
    assert ours.headers["authorization"] == theirs.headers["authorization"] == "Bearer test"
    assert ours.headers["content-type"].startswith("multipart/form-data")
    assert theirs.headers["content-type"].startswith("multipart/form-data")
    strip = lambda fields: {k: v for k, v in fields.items() if k not in ON_PURPOSE}  # noqa: E731
    assert strip(ours.body) == strip(theirs.body)
    if with_image:
        their_upload, our_upload = openai_fake.uploads
        assert (our_upload.field, our_upload.content_type, our_upload.data) == (
            their_upload.field,
            their_upload.content_type,
            their_upload.data,
        )
        assert our_upload.content_type == "image/jpeg"
    else:
        assert openai_fake.uploads == []
