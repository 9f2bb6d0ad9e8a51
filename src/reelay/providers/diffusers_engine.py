"""Reelay's diffusers engine as a provider: open models on this machine's GPU, behind the same API.

One engine process (a single-worker process pool) owns the GPU and keeps each loaded pipeline
between jobs; jobs wait their turn in front of it. ``submit`` turns a ``ProviderJob`` into a typed
``DiffusionTask`` (frames on the card's grid, the pipeline class for the mode, memory options from
``[diffusers]``); progress and cancellation cross the process boundary through files, as for the
procedural engine. Like it, the engine is not resumable: a run lost to a restart is run again.

Torch and diffusers are imported only in the engine process, so building this provider (which the
API process does to route) costs nothing and needs no GPU.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reelay.catalog import Catalog, ModelCard
from reelay.catalog.card import DiffusionSpec
from reelay.engine.diffusion.task import (
    DiffusionTask,
    EngineSetupError,
    LoadSpec,
    TaskMode,
    TaskResult,
    preload,
    run_task,
)
from reelay.errors import UpstreamError
from reelay.procpool import ProcessPool, is_broken_pool
from reelay.providers.base import PollResult, ProviderJob
from reelay.providers.pool_runs import poll_pool_run
from reelay.routing.config import DIFFUSERS, DiffusersConfig, DiffusersModel

log = logging.getLogger("reelay.diffusers")


@dataclass(frozen=True)
class ServedModel:
    """A declared model: its card (with an ``[engine]`` table) and its ``[diffusers.models]`` entry."""

    card: ModelCard
    engine: DiffusionSpec
    settings: DiffusersModel


@dataclass
class _Run:
    future: asyncio.Future[TaskResult]
    folder: Path


class DiffusersProvider:
    name = DIFFUSERS
    resumable = False

    def __init__(self, models: dict[str, ServedModel], config: DiffusersConfig, work_dir: Path) -> None:
        self._models = models
        self._config = config
        self._work_dir = work_dir
        self._pool = ProcessPool(1)  # one engine process: it owns the GPU and keeps models loaded
        self._runs: dict[str, _Run] = {}
        self._names = {name: card_id for card_id, model in models.items() for name in _names(model.card)}

    @property
    def serves(self) -> frozenset[str]:
        """The card ids this engine holds (the router sends it nothing else)."""
        return frozenset(self._models)

    def start(self, only: Sequence[str] = ()) -> None:
        """With ``preload``: load the first declared model (of ``only``, a worker's ``--models``, when
        given) now instead of on its first job."""
        wanted = [model for model in self._models.values() if not only or _names(model.card) & set(only)]
        if self._config.preload and wanted:
            future = self._pool.submit(preload, self._load_spec(wanted[0]))
            future.add_done_callback(_log_preload)

    async def submit(self, job: ProviderJob) -> str:
        model = self._models.get(self._names.get(job.model, ""))
        if model is None:
            raise UpstreamError(
                f"the diffusers engine does not serve {job.model!r}; "
                "declare it under [diffusers.models] in reelay.toml",
                retryable=False,
                code="model_not_served",
            )
        upstream_id = f"diffusers_{uuid.uuid4().hex}"
        folder = self._work_dir / upstream_id
        folder.mkdir(parents=True, exist_ok=True)
        task = build_task(model, self._load_spec(model), job, str(folder))
        future = self._pool.submit(run_task, task)
        future.add_done_callback(lambda done: _log_result(upstream_id, model.card.id, done))
        self._runs[upstream_id] = _Run(future=future, folder=folder)
        return upstream_id

    async def poll(self, upstream_id: str) -> PollResult:
        run = self._runs.get(upstream_id)
        if run is None:
            raise UpstreamError(
                "the diffusion run was lost when the process restarted", retryable=True, code="upstream_lost"
            )
        return await poll_pool_run(run.future, run.folder / "progress", _as_upstream_error)

    async def fetch_output(self, upstream_id: str, result: PollResult, destination: Path) -> None:
        run = self._runs.pop(upstream_id)
        await asyncio.to_thread(shutil.move, run.folder / "out.mp4", destination)
        shutil.rmtree(run.folder, ignore_errors=True)

    async def cancel(self, upstream_id: str) -> None:
        """Stop between two denoising steps (or before the run starts, if it is still waiting)."""
        run = self._runs.pop(upstream_id, None)
        if run is not None:
            (run.folder / "cancel").touch()
            run.future.add_done_callback(lambda done: _forget(done, run.folder))

    def discard(self, upstream_id: str) -> None:
        run = self._runs.pop(upstream_id, None)
        if run is not None:
            shutil.rmtree(run.folder, ignore_errors=True)

    def close(self) -> None:
        """Stop the engine process (its loaded models go with it)."""
        self._pool.shutdown()

    def _load_spec(self, model: ServedModel) -> LoadSpec:
        config, settings = self._config, model.settings
        return LoadSpec(
            model_id=model.card.id,
            source=settings.source or model.card.upstream_model,
            pipeline_class=model.engine.pipelines[model.card.modes[0]],
            device=config.device,
            dtype=settings.dtype or config.dtype,
            cpu_offload=config.cpu_offload if settings.cpu_offload is None else settings.cpu_offload,
            vae_tiling=config.vae_tiling if settings.vae_tiling is None else settings.vae_tiling,
            offline=config.offline,
            threads=config.threads,
            max_loaded=config.max_loaded,
        )


def build_task(model: ServedModel, load: LoadSpec, job: ProviderJob, folder: str) -> DiffusionTask:
    """The engine's view of one run: frames on the card's grid, the pipeline and inputs for the mode."""
    card, engine, settings = model.card, model.engine, model.settings
    mode: TaskMode = "extend" if job.operation == "extend" else job.mode
    frames = engine.frames_for(job.seconds, card.fps)
    context = 1
    if mode == "extend":
        pipeline, context = _extension_pipeline(card, engine)
        room = (engine.max_frames - context) // engine.frame_step * engine.frame_step
        frames = context + min(frames - 1, room)  # the shared context, then the new frames
    else:
        pipeline = engine.pipelines[mode]
    seed = job.seed if job.seed is not None else random.randrange(2**31)
    return DiffusionTask(
        load=load,
        mode=mode,
        pipeline_class=pipeline,
        prompt=job.prompt,
        negative_prompt=engine.negative_prompt,
        width=job.width,
        height=job.height,
        frames=frames,
        fps=card.fps,
        steps=settings.steps or engine.steps,
        guidance_scale=engine.guidance_scale if settings.guidance_scale is None else settings.guidance_scale,
        seed=seed + job.index,
        audio=job.audio,
        audio_source=engine.audio,
        audio_sample_rate=engine.audio_sample_rate,
        folder=folder,
        image_path=str(job.image_path) if job.image_path else None,
        video_path=str(job.video_path) if job.video_path else None,
        context_frames=context,
        arguments={**engine.arguments.get(mode, {}), **settings.arguments},
    )


def _extension_pipeline(card: ModelCard, engine: DiffusionSpec) -> tuple[str, int]:
    """(pipeline, context frames): video conditioning on the input's last frames where the model has
    it (LTX), else image-to-video from the input's last frame."""
    if "extend" in engine.pipelines:
        return engine.pipelines["extend"], engine.frame_step + 1
    if "i2v" in engine.pipelines:
        return engine.pipelines["i2v"], 1
    raise UpstreamError(
        f"{card.id} cannot extend a video: it has no image-to-video or conditioning pipeline; "
        "extend with ltx-video or another model that has one",
        retryable=False,
        code="unsupported_operation",
    )


def build_diffusers_provider(catalog: Catalog, config: DiffusersConfig, work_dir: Path) -> DiffusersProvider | None:
    """The engine for the models declared under ``[diffusers.models]``, or None when none are.

    A declared model must have a card with an ``[engine]`` table (a ValueError at start-up, like a
    bad card). Nothing heavy happens here: the engine process starts on the first job.
    """
    if not config.models:
        return None
    models: dict[str, ServedModel] = {}
    for name, settings in config.models.items():
        card = catalog.get(name)
        if card.engine is None or card.provider != DIFFUSERS:
            raise ValueError(
                f"[diffusers.models.{name!r}]: model {card.id!r} is not a diffusers model (its card has provider "
                f"{card.provider!r} and no [engine] table); see docs/gpu.md for writing a card"
            )
        models[card.id] = ServedModel(card=card, engine=card.engine, settings=settings)
    return DiffusersProvider(models, config, work_dir)


def _forget(done: asyncio.Future[TaskResult], folder: Path) -> None:
    """A cancelled run's end: its outcome is read (so asyncio does not log it as lost) and its folder goes."""
    if not done.cancelled():
        done.exception()
    shutil.rmtree(folder, ignore_errors=True)


def _names(card: ModelCard) -> set[str]:
    return {card.id, card.upstream_model, *card.aliases}


def _as_upstream_error(error: BaseException) -> UpstreamError:
    if isinstance(error, EngineSetupError):
        return UpstreamError(str(error), retryable=False, code="engine_setup")
    if error.__class__.__name__ == "RenderCancelled":
        return UpstreamError("the run was cancelled", retryable=False, code="cancelled")
    if is_broken_pool(error):
        return UpstreamError(
            "the diffusion engine process died (out of memory?)", retryable=True, code="render_crashed"
        )
    return UpstreamError(
        f"the diffusion engine failed: {type(error).__name__}: {error}", retryable=False, code="render_failed"
    )


def _log_result(upstream_id: str, model: str, future: asyncio.Future[TaskResult]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    result = future.result()
    log.info(
        "diffusion run finished",
        extra={
            "upstream_id": upstream_id,
            "model": model,
            "frames": result.frames,
            "loaded_now": result.loaded_now,
            "load_seconds": result.load_seconds,
            "run_seconds": result.run_seconds,
            "audio": result.audio,
            "engine_pid": result.pid,
        },
    )


def _log_preload(future: asyncio.Future[None]) -> None:
    error = None if future.cancelled() else future.exception()
    if error is not None:
        log.error("diffusers preload failed", extra={"error": str(error)})
