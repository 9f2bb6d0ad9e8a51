"""What the provider hands to the engine process, and the entry points it calls there.

Plain frozen dataclasses (picklable, no torch): the provider process builds them from a
``ProviderJob``, the card and ``[diffusers]`` config; the engine process runs them. The entry points
import the torch-side modules only when called, so importing this module stays cheap everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

TaskMode = Literal["t2v", "i2v", "v2v", "extend"]
ArgumentValue = float | int | str | bool


class EngineSetupError(Exception):
    """The model cannot be loaded as configured (a missing folder, an unknown pipeline class).

    Defined here, not beside the loader, so the provider process can unpickle it without torch."""


@dataclass(frozen=True)
class LoadSpec:
    """How to load one model: where from and with which memory options."""

    model_id: str  # the card id (the cache key)
    source: str  # a local folder or a hub name
    pipeline_class: str  # the class the folder is loaded with (the card's first pipeline)
    device: str  # "auto", "cpu", "cuda", "cuda:1"
    dtype: str  # "auto", "float32", "float16", "bfloat16"
    cpu_offload: bool = False
    vae_tiling: bool = False
    offline: bool = False
    threads: int | None = None
    max_loaded: int = 1


@dataclass(frozen=True)
class DiffusionTask:
    """One video to make. ``frames`` is already on the model's grid; ``folder`` is the run's scratch
    folder, where progress, the cancel flag and ``out.mp4`` live."""

    load: LoadSpec
    mode: TaskMode
    pipeline_class: str  # the class for this mode (built from the loaded pipeline's components)
    prompt: str
    negative_prompt: str
    width: int
    height: int
    frames: int
    fps: int
    steps: int
    guidance_scale: float
    seed: int
    audio: bool  # the output gets a soundtrack
    audio_source: Literal["model", "procedural"]
    audio_sample_rate: int
    folder: str
    image_path: str | None = None
    video_path: str | None = None
    context_frames: int = 1  # extend: frames of the input the new part is conditioned on
    arguments: Mapping[str, ArgumentValue] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskResult:
    """What the engine process reports back (it crosses a process boundary: plain values only)."""

    frames: int
    seconds: float
    loaded_now: bool  # False: the pipeline was already in memory from an earlier job
    load_seconds: float
    run_seconds: float
    audio: Literal["model", "procedural", "none"]
    pid: int


def run_task(task: DiffusionTask) -> TaskResult:
    """Engine-process entry point: make the video (imports torch and diffusers on first use)."""
    from reelay.engine.diffusion.runner import run

    return run(task)


def preload(load: LoadSpec) -> None:
    """Engine-process entry point: load a model before its first job (``[diffusers] preload``)."""
    from reelay.engine.diffusion.pipelines import CACHE

    CACHE.get(load)
