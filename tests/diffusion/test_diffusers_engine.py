"""The diffusers engine end to end on the CPU: tiny random-weight pipelines, the real loader, the API.

Each model is built in code (tokenizer and text encoder included), saved with ``save_pretrained``
and named in a reelay.toml as a local folder; ``reelay serve`` runs with ``HF_HUB_OFFLINE=1``. The
videos are noise, so the assertions are about the contract: status, report, frame count, fps, size,
codecs and the soundtrack. Needs the ``reelay[diffusers]`` extra (the README's install has it).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest

from tests.conftest import LiveServer, free_port, server_env, wait_until_finished

tiny = pytest.importorskip("reelay.engine.diffusion.tiny", reason="needs the reelay[diffusers] extra")
pytest.importorskip("diffusers", reason="needs the reelay[diffusers] extra")

CONFIG = """
[diffusers]
device = "cpu"
threads = 1          # one torch thread: the CI machine has two cores and the server needs one
offline = true
max_loaded = 1       # each model change evicts the previous one (the LRU path is exercised)

[diffusers.models."wan2.2-ti2v-5b"]
source = "{root}/wan22"
steps = 2

[diffusers.models."ltx-video"]
source = "{root}/ltx"
steps = 2

[diffusers.models."cogvideox-5b"]
source = "{root}/cogvideox"
steps = 2

[diffusers.models."wan2.1-t2v-1.3b"]   # a run too long to finish: the cancellation test stops it
source = "{root}/wan21"
steps = 10000
"""


@pytest.fixture(scope="module")
def engine_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("models")
    tiny.wan22_ti2v(root / "wan22")
    tiny.ltx_video(root / "ltx")
    tiny.cogvideox(root / "cogvideox")
    tiny.wan21_t2v(root / "wan21")
    config = root / "reelay.toml"
    config.write_text(CONFIG.format(root=root))
    env = server_env(REELAY_CONFIG_FILE=str(config), HF_HUB_OFFLINE="1", REELAY_LOG_FORMAT="json")
    live = LiveServer(tmp_path_factory.mktemp("serve-diffusers") / "data", free_port(), env)
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def client(engine_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine_server.url, timeout=30) as http:
        yield http


def completed(client: httpx.Client, response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 202, response.text
    done = wait_until_finished(client, response.json()["id"], timeout=150)
    assert done["status"] == "completed", done
    return done


def probe_output(done: dict[str, object], target: Path) -> dict[str, object]:
    output = done["output"]
    assert isinstance(output, dict)
    target.write_bytes(httpx.get(output["url"], timeout=30).content)
    with av.open(str(target)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        frames = sum(1 for _ in container.decode(video=0))
        return {
            "codec": video.codec_context.name,
            "audio_codec": audio.codec_context.name,
            "sample_rate": audio.codec_context.sample_rate,
            "size": f"{video.width}x{video.height}",
            "fps": float(video.average_rate),
            "frames": frames,
        }


def report(done: dict[str, object]) -> dict[str, dict[str, object]]:
    metadata = done["metadata"]
    assert isinstance(metadata, dict)
    return {entry["param"]: entry for entry in metadata["normalization"]}


def assert_mp4(info: dict[str, object], *, frames: int, fps: float, size: str) -> None:
    assert info == {
        "codec": "h264",
        "audio_codec": "aac",
        "sample_rate": 48000,
        "size": size,
        "fps": fps,
        "frames": frames,
    }


def test_models_lists_the_engine_cards(client: httpx.Client) -> None:
    models = {item["id"]: item for item in client.get("/v1/models").json()["data"]}
    wan = models["wan2.2-ti2v-5b"]["capabilities"]
    assert wan["provider"] == "diffusers" and wan["modes"] == ["t2v", "i2v"]
    assert wan["frames"] == {"step": 4, "offset": 1, "max": 121} and wan["audio_source"] == "procedural"
    assert models["ltx-video"]["capabilities"]["frames"]["step"] == 8


def test_wan_text_to_video(client: httpx.Client, tmp_path: Path) -> None:
    done = completed(
        client,
        client.post(
            "/v1/videos", json={"model": "wan2.2-ti2v-5b", "prompt": "a red fox runs", "seconds": 1, "size": "60x70"}
        ),
    )
    metadata = done["metadata"]
    assert isinstance(metadata, dict) and metadata["provider"] == "diffusers"
    entries = report(done)
    # 60x70 is rounded to the model's multiple of 32; 1 s x 24 fps = 24 frames -> 25 (4k+1).
    assert entries["size"]["value"]["size"] == "64x64" and entries["size"]["behaviour"] == "converted"
    assert entries["frames"]["value"] == 25 and entries["frames"]["behaviour"] == "converted"
    assert entries["audio"]["value"] == "procedural" and entries["audio"]["behaviour"] == "emulated"
    assert_mp4(probe_output(done, tmp_path / "wan.mp4"), frames=25, fps=24.0, size="64x64")


def test_wan_image_to_video_reuses_the_loaded_model(
    client: httpx.Client, engine_server: LiveServer, media_dir: Path, tmp_path: Path
) -> None:
    first = client.post(
        "/v1/videos", json={"model": "wan2.2-ti2v-5b", "prompt": "a cat", "seconds": 1, "size": "64x64"}
    )
    completed(client, first)
    with open(media_dir / "reference.png", "rb") as image:
        response = client.post(
            "/v1/videos",
            data={"model": "wan2.2-ti2v-5b", "prompt": "the cat runs", "seconds": "1", "size": "64x64"},
            files={"input_reference": ("reference.png", image, "image/png")},
        )
    done = completed(client, response)
    assert report(done)["input_reference"]["behaviour"] == "passthrough"
    assert_mp4(probe_output(done, tmp_path / "wan-i2v.mp4"), frames=25, fps=24.0, size="64x64")
    runs = _engine_runs(engine_server)
    assert runs[-1]["model"] == "wan2.2-ti2v-5b" and runs[-1]["loaded_now"] is False  # kept in memory


def test_ltx_text_and_image_to_video(client: httpx.Client, media_dir: Path, tmp_path: Path) -> None:
    done = completed(
        client,
        client.post(
            "/v1/videos", json={"model": "ltx-video", "prompt": "snow over the sea", "seconds": 1, "size": "96x64"}
        ),
    )
    assert report(done)["frames"]["value"] == 25  # 24 frames -> 25 (8k+1)
    assert_mp4(probe_output(done, tmp_path / "ltx.mp4"), frames=25, fps=24.0, size="96x64")
    with open(media_dir / "reference.png", "rb") as image:
        response = client.post(
            "/v1/videos",
            data={"model": "ltx-video", "prompt": "the field at night", "seconds": "1", "size": "64x64"},
            files={"input_reference": ("reference.png", image, "image/png")},
        )
    assert_mp4(probe_output(completed(client, response), tmp_path / "ltx-i2v.mp4"), frames=25, fps=24.0, size="64x64")


def test_ltx_extension_conditions_on_the_input(client: httpx.Client, media_dir: Path, tmp_path: Path) -> None:
    data_uri = "data:video/mp4;base64," + base64.b64encode((media_dir / "input.mp4").read_bytes()).decode()
    response = client.post(
        "/v1/videos/extensions",
        json={"model": "ltx-video", "prompt": "keep going", "seconds": 1, "size": "64x64", "video": data_uri},
    )
    done = completed(client, response)
    # The 2 s input at 24 fps (48 frames) and 24 new frames after the 9 shared context frames.
    info = probe_output(done, tmp_path / "ltx-extend.mp4")
    assert info["frames"] == 48 + 24 and info["size"] == "64x64"


def test_cogvideox_video_to_video(client: httpx.Client, media_dir: Path, tmp_path: Path) -> None:
    data_uri = "data:video/mp4;base64," + base64.b64encode((media_dir / "input.mp4").read_bytes()).decode()
    response = client.post(
        "/v1/videos",
        json={
            "model": "cogvideox-5b",
            "prompt": "a city at night",
            "input_video": data_uri,
            "seconds": 1,
            "size": "64x64",
        },
    )
    done = completed(client, response)
    assert report(done)["input_video"]["behaviour"] == "passthrough"
    assert_mp4(probe_output(done, tmp_path / "cog.mp4"), frames=9, fps=8.0, size="64x64")


def test_progress_then_cancel_between_steps(client: httpx.Client) -> None:
    created = client.post(
        "/v1/videos", json={"model": "wan2.1-t2v-1.3b", "prompt": "a long run", "seconds": 1, "size": "64x64"}
    )
    assert created.status_code == 202, created.text
    video_id = created.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/v1/videos/{video_id}").json()
        if body["status"] == "in_progress" and body["progress"] > 0:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"no progress was reported: {body}")
    assert client.delete(f"/v1/videos/{video_id}").status_code == 200
    # 10,000 steps would take hours: the engine is free again only because the run stopped.
    after = client.post("/v1/videos", json={"model": "cogvideox-5b", "prompt": "a fox", "seconds": 1, "size": "64x64"})
    completed(client, after)


def test_an_undeclared_engine_model_is_not_configured(client: httpx.Client) -> None:
    response = client.post("/v1/videos", json={"model": "cogvideox-5b-i2v", "prompt": "x"})
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert "[diffusers.models" in error["message"] and error["param"] == "model"


def _engine_runs(server: LiveServer) -> list[dict[str, object]]:
    assert server.log_path is not None
    runs = []
    for line in server.log_path.read_text().splitlines():
        if line.startswith("{") and '"diffusion run finished"' in line:
            runs.append(json.loads(line))
    return runs
