"""One job in the engine process: load (or reuse) the pipeline, denoise, export the MP4.

Progress and cancellation travel through files in the job's folder, as for the procedural engine:
the pipeline's step callback writes the fraction done and raises ``RenderCancelled`` when the
``cancel`` file appears, so a cancelled job stops between two denoising steps and frees the GPU.
The export is the same ``Mp4Writer`` every engine uses (H.264 + AAC); a model without sound gets
the procedural ambient bed.

Runs only inside the engine process: imports torch and diffusers.
"""

from __future__ import annotations

import inspect
import os
import time
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import torch
from PIL import Image

from reelay.engine.audio import ambient_bed
from reelay.engine.diffusion.media import fitted_image, rgb_frames, stereo_48k, video_frames
from reelay.engine.diffusion.pipelines import CACHE
from reelay.engine.diffusion.task import DiffusionTask, TaskResult
from reelay.engine.encode import Mp4Writer
from reelay.engine.files import atomic_path
from reelay.engine.spec import RenderCancelled

# Share of the progress bar: loading up to LOADED, denoising up to DENOISED, then decode and export.
LOADED = 0.05
DENOISED = 0.9


class _Job:
    """The job folder's files: progress out, cancellation in."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._progress = folder / "progress"
        self._cancel = folder / "cancel"

    def report(self, fraction: float) -> None:
        tmp = self._progress.with_suffix(".tmp")
        tmp.write_text(f"{fraction:.3f}")
        os.replace(tmp, self._progress)

    def check(self) -> None:
        if self._cancel.exists():
            raise RenderCancelled("render cancelled")


def run(task: DiffusionTask) -> TaskResult:
    job = _Job(Path(task.folder))
    job.check()  # cancelled while it waited for the GPU
    job.report(0.01)
    base, loaded_now, load_seconds = CACHE.get(task.load)
    pipe = CACHE.view(task.load, base, task.pipeline_class)
    job.report(LOADED)
    started = time.monotonic()
    inputs, prefix = _inputs(task)
    output = pipe(**_arguments(pipe, task, inputs, job))
    job.check()
    frames = rgb_frames(output.frames[0])
    if prefix is not None:  # an extension: the whole input, then the frames after the shared context
        frames = np.concatenate([prefix, frames[task.context_frames :]])
    job.report(DENOISED)
    seconds = len(frames) / task.fps
    audio_kind, pcm = _soundtrack(task, output, seconds)
    _export(frames, task.fps, pcm, job.folder / "out.mp4")
    job.report(1.0)
    return TaskResult(
        frames=len(frames),
        seconds=seconds,
        loaded_now=loaded_now,
        load_seconds=round(load_seconds, 3),
        run_seconds=round(time.monotonic() - started, 3),
        audio=audio_kind,
        pid=os.getpid(),
    )


def _inputs(task: DiffusionTask) -> tuple[dict[str, Any], np.ndarray | None]:
    """The pipeline's image/video arguments, and for an extension the input frames that precede."""
    if task.mode == "i2v":
        assert task.image_path is not None
        return {"image": fitted_image(Path(task.image_path), task.width, task.height)}, None
    if task.mode == "v2v":
        assert task.video_path is not None
        frames = video_frames(Path(task.video_path), task.fps, task.width, task.height, limit=task.frames)
        return {"video": _on_grid(frames, task)}, None
    if task.mode == "extend":
        assert task.video_path is not None
        frames = video_frames(Path(task.video_path), task.fps, task.width, task.height)
        # The last frames condition the new part; a clip shorter than that is padded with its first frame.
        context = ([frames[0]] * task.context_frames + frames)[-task.context_frames :]
        argument: dict[str, Any] = {"video": context} if task.context_frames > 1 else {"image": context[0]}
        prefix = np.stack([np.asarray(frame) for frame in frames])
        return argument, prefix
    return {}, None


def _on_grid(frames: list[Image.Image], task: DiffusionTask) -> list[Image.Image]:
    """An input video cut (or padded with its last frame) to the task's frame count."""
    frames = frames[: task.frames]
    return frames + [frames[-1]] * (task.frames - len(frames))


def _arguments(pipe: Any, task: DiffusionTask, inputs: dict[str, Any], job: _Job) -> dict[str, Any]:
    """The call's keyword arguments: the common ones this pipeline accepts, plus the card's and config's."""

    def on_step(pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        job.check()
        total = getattr(pipeline, "num_timesteps", None) or task.steps
        job.report(LOADED + (DENOISED - LOADED) * min(1.0, (step + 1) / total))
        return tensors

    offered: dict[str, Any] = {
        "prompt": task.prompt,
        "negative_prompt": task.negative_prompt,
        "height": task.height,
        "width": task.width,
        "num_frames": task.frames,
        "frame_rate": task.fps,
        "num_inference_steps": task.steps,
        "guidance_scale": task.guidance_scale,
        "generator": torch.Generator(device="cpu").manual_seed(task.seed),
        "output_type": "np",
        "callback_on_step_end": on_step,
        **inputs,
    }
    accepted = inspect.signature(pipe.__call__).parameters
    arguments = {name: value for name, value in offered.items() if name in accepted}
    arguments.update(task.arguments)  # explicit settings are passed even if the signature hides them
    return arguments


def _soundtrack(
    task: DiffusionTask, output: Any, seconds: float
) -> tuple[Literal["model", "procedural", "none"], np.ndarray | None]:
    if not task.audio:
        return "none", None
    audio = getattr(output, "audio", None)
    if task.audio_source == "model" and audio is not None:
        if isinstance(audio, torch.Tensor):
            audio = audio.float().cpu().numpy()
        return "model", stereo_48k(audio, task.audio_sample_rate)
    return "procedural", ambient_bed(task.prompt, task.seed, seconds)


def _export(frames: np.ndarray, fps: int, pcm: np.ndarray | None, out_path: Path) -> None:
    count, height, width = frames.shape[0], frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    with atomic_path(out_path) as tmp, Mp4Writer(tmp, width, height, fps, pcm) as writer:
        for index in range(count):
            writer.add(av.VideoFrame.from_ndarray(np.ascontiguousarray(frames[index, :height, :width]), "rgb24"))
