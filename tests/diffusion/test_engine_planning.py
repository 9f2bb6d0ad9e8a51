"""The engine's planning, without torch: frame grids, tasks per mode, who serves what, the base install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reelay.catalog import load_catalog
from reelay.errors import ProviderNotConfigured, UpstreamError
from reelay.normalize import GenerationParams, normalize
from reelay.providers.base import ProviderJob
from reelay.providers.diffusers_engine import build_diffusers_provider, build_task
from reelay.routing import Router
from reelay.routing.config import DiffusersConfig, DiffusersModel

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("model", "seconds", "frames"),
    [
        ("wan2.1-t2v-1.3b", 5, 81),  # 80 frames at 16 fps -> 81 (4k+1)
        ("wan2.1-t2v-1.3b", 1, 17),
        ("wan2.2-ti2v-5b", 5, 121),
        ("ltx-video", 5, 121),  # 120 at 24 fps -> 121 (8k+1)
        ("ltx-video", 10, 241),
        ("cogvideox-5b", 6, 49),
    ],
)
def test_seconds_become_frames_on_the_grid(model: str, seconds: int, frames: int) -> None:
    card = CATALOG.get(model)
    assert card.engine is not None
    assert card.engine.frames_for(seconds, card.fps) == frames
    assert (frames - 1) % card.engine.frame_step == 0


def test_the_report_shows_frames_and_the_audio_source() -> None:
    card = CATALOG.get("wan2.1-t2v-1.3b")
    request = normalize(GenerationParams(prompt="a fox", seconds="5", size="832x480"), card)
    entries = {entry.param: entry for entry in request.report}
    assert entries["frames"].value == 81 and entries["frames"].behaviour == "converted"
    assert "4k+1" in entries["frames"].note and "5.06 s" in entries["frames"].note
    assert entries["audio"].behaviour == "emulated" and entries["audio"].value == "procedural"
    assert (request.width, request.height) == (832, 480)


def _job(model: str, **fields: object) -> ProviderJob:
    values: dict[str, object] = dict(
        video_id="video_1",
        index=0,
        model=model,
        mode="t2v",
        prompt="a fox",
        width=64,
        height=64,
        seconds=1.0,
        seed=7,
    )
    values.update(fields)
    return ProviderJob(**values)  # type: ignore[arg-type]


def _engine(*models: str, **settings: DiffusersModel) -> object:
    config = DiffusersConfig(models={name: settings.get(name, DiffusersModel()) for name in models})
    return build_diffusers_provider(CATALOG, config, Path("/nonexistent"))


def test_an_extension_is_conditioned_on_the_last_frames_where_the_model_can() -> None:
    engine = _engine("ltx-video", "wan2.2-ti2v-5b", "cogvideox-5b")
    models = engine._models  # type: ignore[attr-defined]
    load = engine._load_spec(models["ltx-video"])  # type: ignore[attr-defined]
    ltx = build_task(models["ltx-video"], load, _job("Lightricks/LTX-Video", mode="v2v", operation="extend"), "/x")
    assert (ltx.pipeline_class, ltx.context_frames, ltx.frames) == ("LTXConditionPipeline", 9, 9 + 24)
    wan = build_task(models["wan2.2-ti2v-5b"], load, _job("wan2.2-ti2v-5b", mode="v2v", operation="extend"), "/x")
    assert (wan.pipeline_class, wan.context_frames, wan.frames) == ("WanImageToVideoPipeline", 1, 25)
    with pytest.raises(UpstreamError) as error:
        build_task(models["cogvideox-5b"], load, _job("cogvideox-5b", mode="v2v", operation="extend"), "/x")
    assert error.value.code == "unsupported_operation" and not error.value.retryable


def test_per_model_settings_override_the_card() -> None:
    engine = _engine("cogvideox-5b", **{"cogvideox-5b": DiffusersModel(steps=3, arguments={"max_sequence_length": 16})})
    model = engine._models["cogvideox-5b"]  # type: ignore[attr-defined]
    task = build_task(model, engine._load_spec(model), _job("cogvideox-5b", mode="v2v", seed=None), "/x")  # type: ignore[attr-defined]
    assert task.steps == 3 and task.fps == 8 and task.frames == 9
    assert task.arguments == {"strength": 0.7, "max_sequence_length": 16}  # the card's v2v strength, then config
    assert task.load.source == "THUDM/CogVideoX-5b" and task.load.pipeline_class == "CogVideoXPipeline"


def test_only_declared_models_route_to_the_engine() -> None:
    engine = _engine("ltx-video")
    router = Router(CATALOG, {"local": "local", "diffusers": "diffusers"}, serves={"diffusers": engine.serves})  # type: ignore[attr-defined]
    assert router.route("ltx-video").provider == "diffusers"
    with pytest.raises(ProviderNotConfigured) as error:
        router.route("cogvideox-5b")
    assert "[diffusers.models" in error.value.message
    with pytest.raises(ProviderNotConfigured):
        router.route("diffusers/cogvideox-5b")


def test_a_declared_model_needs_an_engine_card() -> None:
    with pytest.raises(ValueError, match="not a diffusers model"):
        _engine("reelay-local")


def test_the_default_import_path_never_imports_torch() -> None:
    code = (
        "import sys, reelay.api.app, reelay.cli.main, reelay.providers.diffusers_engine, reelay.engine.diffusion.task;"
        "heavy = sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules); print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
