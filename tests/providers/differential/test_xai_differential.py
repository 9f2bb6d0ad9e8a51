"""Reelay's xAI adapter against xAI's REST client for Node (``@ai-sdk/xai``), on the same recording fake.

xAI's Python SDK speaks gRPC, so the REST client compared here is the Vercel AI SDK's xAI provider,
which xAI's docs name for Node. Each case sends one generation through that client and the equivalent
``ProviderJob`` through ``XAIProvider.submit``; the strict fake records both (and refuses either if it
breaks xAI's documented rules). The two wire requests must agree on method, path, ``Authorization``,
content type and every body field, except the fields listed in ``ON_PURPOSE`` with the reason.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from reelay.providers.base import ProviderJob
from reelay.providers.xai import XAIProvider
from tests.providers import remote_harness as h
from tests.providers.differential.node_clients import install, run_script
from tests.providers.fakes.loopback import LoopbackServer, Seen
from tests.providers.fakes.xai_fake import XAIFake

# Body fields one side sends and the other does not, on purpose. Empty today: the client and Reelay
# send the same fields for every case below. (Headers other than Authorization and Content-Type are
# the clients' own: the AI SDK adds ``idempotency-key`` and a user agent, Reelay its own user agent.)
ON_PURPOSE: dict[str, str] = {}


@pytest.fixture(scope="module")
def node_dir(request: pytest.FixtureRequest) -> Path:
    return install(request)


@pytest.fixture(scope="module")
def jpeg(provider_media: Path) -> Path:
    path = provider_media / "differential.jpg"
    Image.open(provider_media / "reference.png").convert("RGB").save(path, quality=90)
    return path


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0), trust_env=False) as http:
        yield http


def cases(media: Path, jpeg: Path) -> dict[str, tuple[dict[str, Any], ProviderJob]]:
    """name → (what the Node client is asked, the ProviderJob Reelay builds for the same request)."""
    base = {"model": "grok-imagine-video", "prompt": "a fox at dawn"}
    job = dict(
        video_id="video_d",
        index=0,
        model="grok-imagine-video",
        prompt="a fox at dawn",
        width=1280,
        height=720,
        seed=None,
        aspect_ratio="16:9",
        resolution="720p",
    )
    png = media / "reference.png"
    video = media / "input.mp4"
    return {
        "text-to-video": (
            {**base, "duration": 4, "aspectRatio": "16:9", "resolution": "720p"},
            ProviderJob(**job, mode="t2v", seconds=4.0),
        ),  # type: ignore[arg-type]
        "image-to-video (JPEG)": (
            {**base, "duration": 3, "aspectRatio": "4:3", "resolution": "720p", "image": str(jpeg)},
            ProviderJob(**{**job, "aspect_ratio": "4:3"}, mode="i2v", seconds=3.0, image_path=jpeg),  # type: ignore[arg-type]
        ),
        "reference-to-video": (
            {**base, "duration": 10, "aspectRatio": "16:9", "resolution": "720p", "references": [str(png), str(jpeg)]},
            ProviderJob(**job, mode="i2v", seconds=10.0, reference_paths=(png, jpeg)),  # type: ignore[arg-type]
        ),
        "edit": (
            {**base, "mode": "edit-video", "video": str(video)},
            ProviderJob(**job, mode="v2v", seconds=2.0, video_path=video, operation="edit"),
        ),  # type: ignore[arg-type]
        "extension": (
            {**base, "mode": "extend-video", "video": str(video), "duration": 3},
            ProviderJob(**job, mode="v2v", seconds=3.0, video_path=video, operation="extend"),
        ),  # type: ignore[arg-type]
    }


CASE_NAMES = ["text-to-video", "image-to-video (JPEG)", "reference-to-video", "edit", "extension"]


def compare(theirs: Seen, ours: Seen) -> None:
    assert (ours.method, ours.path) == (theirs.method, theirs.path)
    assert ours.headers["authorization"] == theirs.headers["authorization"] == "Bearer test"
    assert ours.headers["content-type"].split(";")[0] == theirs.headers["content-type"].split(";")[0]
    theirs_body = {k: v for k, v in theirs.body.items() if k not in ON_PURPOSE}
    ours_body = {k: v for k, v in ours.body.items() if k not in ON_PURPOSE}
    assert ours_body == theirs_body, json.dumps({"ours": _short(ours_body), "theirs": _short(theirs_body)})


def _short(value: Any) -> Any:
    """``value`` with long strings (data URIs) cut, for a readable assertion message."""
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v) for v in value]
    return f"{value[:60]}…({len(value)} chars)" if isinstance(value, str) and len(value) > 100 else value


@pytest.mark.parametrize("name", CASE_NAMES)
async def test_reelay_sends_what_the_official_client_sends(
    name: str,
    node_dir: Path,
    xai_server: tuple[XAIFake, LoopbackServer],
    xai_fake: XAIFake,
    provider_media: Path,
    jpeg: Path,
    client: httpx.AsyncClient,
) -> None:
    spec, job = cases(provider_media, jpeg)[name]
    server = xai_server[1]
    answer = run_script(node_dir, "xai_client.mjs", {"CASE": json.dumps(spec), "BASE_URL": f"{server.url}/v1"})
    assert answer["operation"]["requestId"], answer  # the fake accepted the client's request
    provider = XAIProvider(api_key="test", base_url=server.url, client=client, poll_interval=0.01)
    upstream_id = await provider.submit(job)
    assert (await h.run_to_end(provider, upstream_id)).state == "succeeded"
    theirs, ours = xai_fake.creates()
    compare(theirs, ours)
