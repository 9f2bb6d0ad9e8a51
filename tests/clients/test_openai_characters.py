"""Characters through the unchanged ``openai`` Python SDK: ``create_character`` from an uploaded
video, ``get_character``, a generation that uses the character (``extra_body={"characters": [id]}``),
and per-key isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
from openai import OpenAI

from tests.clients.conftest import KeyedServer, assert_probed_mp4, keyed_server
from tests.conftest import LiveServer
from tests.media_helpers import first_frame

__all__ = ["keyed_server"]

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API is scheduled to permanently shut down:DeprecationWarning")


@pytest.fixture(scope="module")
def sdk(server: LiveServer) -> Iterator[OpenAI]:
    client = OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
    yield client
    client.close()


def test_create_and_get_a_character(sdk: OpenAI, media_dir: Path) -> None:
    with open(media_dir / "input.mp4", "rb") as video:
        character = sdk.videos.create_character(name="Mira", video=video)
    assert character.id and character.id.startswith("char_")
    assert character.name == "Mira" and character.created_at > 0
    again = sdk.videos.get_character(character.id)
    assert (again.id, again.name, again.created_at) == (character.id, "Mira", character.created_at)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.get_character("char_" + "0" * 32)


def test_a_generation_uses_the_character(sdk: OpenAI, media_dir: Path, tmp_path: Path) -> None:
    with open(media_dir / "input.mp4", "rb") as video:
        character = sdk.videos.create_character(name="Mira", video=video)
    assert character.id is not None
    made = sdk.videos.create_and_poll(
        model="reelay-local", prompt="Mira waves", seconds="2", size="320x240",  # type: ignore[arg-type]
        extra_body={"characters": [character.id]},
    )  # fmt: skip
    assert made.status == "completed", made.error
    report = (made.model_extra or {})["metadata"]["normalization"]
    assert any(item["param"] == "input_reference" for item in report), report  # the still went in as the image
    out = tmp_path / "mira.mp4"
    sdk.videos.download_content(made.id).write_to_file(out)
    assert_probed_mp4(out, size="320x240", seconds=2)
    # the local engine animates the still (image-to-video): the first frame is the character's video,
    # not the procedural text-to-video scene (input.mp4 is mid-grey noise-free test colour bars)
    plain = sdk.videos.create_and_poll(model="reelay-local", prompt="Mira waves", seconds="2", size="320x240")  # type: ignore[arg-type]
    plain_out = tmp_path / "plain.mp4"
    sdk.videos.download_content(plain.id).write_to_file(plain_out)
    assert not np.array_equal(first_frame(out), first_frame(plain_out))


def test_bad_character_requests(sdk: OpenAI, server: LiveServer, media_dir: Path) -> None:
    with pytest.raises(openai.BadRequestError) as bad, open(media_dir / "not-a-video.mp4", "rb") as fake:
        sdk.videos.create_character(name="Notavideo", video=fake)
    assert bad.value.body and "video" in str(bad.value.body)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.create(model="reelay-local", prompt="x", extra_body={"characters": ["char_" + "1" * 32]})
    with open(media_dir / "input.mp4", "rb") as video:
        one = sdk.videos.create_character(name="One", video=video)
    with open(media_dir / "input.mp4", "rb") as video:
        two = sdk.videos.create_character(name="Two", video=video)
    response = httpx.post(
        f"{server.url}/v1/videos", json={"prompt": "both", "characters": [one.id, two.id]}, timeout=30
    )  # the local engine takes one image: two characters are refused, saying which models can
    assert response.status_code == 400 and "reference_to_video" in response.json()["error"]["message"]


def test_characters_are_per_key(keyed_server: KeyedServer, media_dir: Path) -> None:
    admin = {"Authorization": f"Bearer {keyed_server.key}"}
    other = httpx.post(f"{keyed_server.url}/v1/admin/keys", json={"name": "other"}, headers=admin, timeout=30)
    owner = OpenAI(base_url=keyed_server.url + "/openai/v1", api_key=other.json()["key"], max_retries=0)
    stranger_key = httpx.post(f"{keyed_server.url}/v1/admin/keys", json={"name": "s"}, headers=admin, timeout=30)
    stranger = OpenAI(base_url=keyed_server.url + "/v1", api_key=stranger_key.json()["key"], max_retries=0)
    with open(media_dir / "input.mp4", "rb") as video:
        character = owner.videos.create_character(name="Private", video=video)
    assert character.id is not None
    assert owner.videos.get_character(character.id).name == "Private"
    with pytest.raises(openai.NotFoundError):
        stranger.videos.get_character(character.id)
    with pytest.raises(openai.NotFoundError):
        stranger.videos.create(model="reelay-local", prompt="x", extra_body={"characters": [character.id]})
