"""Loading diffusers pipelines once and keeping them: the engine process's model cache.

A model is loaded from a local folder or a hub name with the card's first pipeline class, placed on
its device with the configured memory options, and kept until ``max_loaded`` other models push it
out (least recently used first). The other modes of the same model (image-to-video, conditioning)
are built with ``from_pipe``, which shares the loaded weights instead of loading them again.

Runs only inside the engine process: imports torch and diffusers.
"""

from __future__ import annotations

import gc
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import diffusers
import torch
import transformers

from reelay.engine.diffusion.task import EngineSetupError, LoadSpec

# Loading bars belong on a terminal, not in a server's JSON log.
diffusers.utils.logging.disable_progress_bar()
transformers.utils.logging.disable_progress_bar()

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise EngineSetupError(f"[diffusers] device is {name!r} but torch sees no CUDA GPU (a CPU build of torch?)")
    return device


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto`` is bfloat16 on a GPU and float32 on the CPU (bf16 on a CPU is emulated and slow)."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return DTYPES[name]


def pipeline_class(name: str) -> Any:
    cls = getattr(diffusers, name, None)
    if cls is None:
        raise EngineSetupError(f"diffusers {diffusers.__version__} has no pipeline {name!r}; upgrade diffusers")
    return cls


class PipelineCache:
    """Loaded pipelines by card id (least recently used first) and the per-mode views built on them."""

    def __init__(self) -> None:
        self._loaded: OrderedDict[str, Any] = OrderedDict()
        self._views: dict[tuple[str, str], Any] = {}

    def get(self, load: LoadSpec) -> tuple[Any, bool, float]:
        """(pipeline, loaded_now, seconds spent loading)."""
        if load.model_id in self._loaded:
            self._loaded.move_to_end(load.model_id)
            return self._loaded[load.model_id], False, 0.0
        while len(self._loaded) >= load.max_loaded:
            self._evict(next(iter(self._loaded)))
        started = time.monotonic()
        pipe = _load(load)
        self._loaded[load.model_id] = pipe
        return pipe, True, time.monotonic() - started

    def view(self, load: LoadSpec, base: Any, class_name: str) -> Any:
        """``base`` as ``class_name`` (same weights), built once per model and class."""
        if type(base).__name__ == class_name:
            return base
        key = (load.model_id, class_name)
        if key not in self._views:
            view = pipeline_class(class_name).from_pipe(base)
            _place(view, load)
            self._views[key] = view
        return self._views[key]

    def _evict(self, model_id: str) -> None:
        self._loaded.pop(model_id, None)
        for key in [key for key in self._views if key[0] == model_id]:
            del self._views[key]
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _load(load: LoadSpec) -> Any:
    if load.threads:
        torch.set_num_threads(load.threads)
    source = load.source
    looks_local = source.startswith(("/", "./", "../", "~"))
    if looks_local and not Path(source).expanduser().is_dir():
        raise EngineSetupError(f"model folder {source} does not exist (check [diffusers.models] source)")
    device = resolve_device(load.device)
    pipe = pipeline_class(load.pipeline_class).from_pretrained(
        str(Path(source).expanduser()) if looks_local else source,
        torch_dtype=resolve_dtype(load.dtype, device),
        local_files_only=load.offline,
    )
    _place(pipe, load)
    return pipe


def _place(pipe: Any, load: LoadSpec) -> None:
    """Device and memory options: model CPU offload (GPU only), VAE tiling, no progress bars."""
    device = resolve_device(load.device)
    if load.cpu_offload and device.type == "cuda":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    vae = getattr(pipe, "vae", None)
    if load.vae_tiling and vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    pipe.set_progress_bar_config(disable=True)


CACHE = PipelineCache()
