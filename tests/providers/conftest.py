"""Fixtures for the provider tests: a real small MP4 and the loopback fakes (one server per module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.media_helpers import make_image, make_video
from tests.providers.fakes.loopback import LoopbackServer
from tests.providers.fakes.openai_videos_fake import OpenAIVideosFake
from tests.providers.fakes.xai_fake import XAIFake


@pytest.fixture(scope="session")
def provider_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("provider-media")
    make_video(folder / "output.mp4", seconds=1.0, width=320, height=180)
    make_video(folder / "input.mp4", seconds=2.0, width=320, height=240)
    make_image(folder / "reference.png", 320, 240)
    return folder


@pytest.fixture(scope="module")
def xai_server(provider_media: Path) -> Iterator[tuple[XAIFake, LoopbackServer]]:
    fake = XAIFake(video=(provider_media / "output.mp4").read_bytes())
    with LoopbackServer(fake.app()) as server:
        yield fake, server


@pytest.fixture
def xai_fake(xai_server: tuple[XAIFake, LoopbackServer]) -> Iterator[XAIFake]:
    fake, _ = xai_server
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture(scope="module")
def openai_server(provider_media: Path) -> Iterator[tuple[OpenAIVideosFake, LoopbackServer]]:
    fake = OpenAIVideosFake(video=(provider_media / "output.mp4").read_bytes())
    with LoopbackServer(fake.app()) as server:
        yield fake, server


@pytest.fixture
def openai_fake(openai_server: tuple[OpenAIVideosFake, LoopbackServer]) -> Iterator[OpenAIVideosFake]:
    fake, _ = openai_server
    fake.reset()
    yield fake
    fake.reset()
