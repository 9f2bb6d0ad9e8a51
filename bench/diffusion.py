"""Benchmark of the diffusers engine: `python bench/diffusion.py`.

On a CUDA GPU it builds the real architectures of Wan 2.1 T2V-1.3B and Wan 2.2 TI2V-5B (transformer,
VAE and UMT5-XXL text encoder at their published configs) with random weights, so no download is
needed, and times a 5 s clip at 480p and 720p: seconds per denoising step (from the pipeline's step
callback) and end to end (text encoding, the steps, VAE decode and the MP4 export), with the 50-step
figure extrapolated from ``--steps`` measured steps. Random weights make noise, but the arithmetic per
step is the real model's.

Without a GPU it says so and measures only the tiny random-weight pipelines on the CPU, through the
engine's own code path (``reelay.engine.diffusion.runner.run``: load, denoise, export). Needs the
``reelay[diffusers]`` extra. It reports; it does not assert.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import cpu_model  # bench/machine.py (scripts run from bench/)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PUBLISHED = {
    "wan2.1-1.3b": "about 4 min for 5 s at 480p on an RTX 4090 (Wan2.1 README)",
    "wan2.2-ti2v-5b": "157.2 s of DiT time for 5 s at 720p, 50 steps, on one H200 (FastVideo blog, Table 1)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4, help="denoising steps measured per clip (GPU)")
    args = parser.parse_args()
    import torch

    print(f"# diffusers engine benchmark, {dt.date.today().isoformat()}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, torch {torch.__version__}"
    )
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name(0)}")
        gpu(args.steps)
    else:
        print("no CUDA GPU: the real-size models are not measured (a CPU needs days per clip, docs/gpu.md);")
        print("measuring the tiny random-weight pipelines on the CPU through the engine's code path instead")
        cpu()


# -- CPU: tiny pipelines through the engine ---------------------------------------------------------------


def cpu() -> None:
    from reelay.engine.diffusion import tiny
    from reelay.engine.diffusion.runner import run
    from reelay.engine.diffusion.task import DiffusionTask, LoadSpec

    cases = [  # (builder, pipeline, fps, frames, sizes)
        ("wan2.2-ti2v", "WanPipeline", 24, 25, [(64, 64), (128, 128)]),
        ("wan2.1-t2v", "WanPipeline", 16, 17, [(64, 64), (128, 128)]),
        ("ltx-video", "LTXPipeline", 24, 25, [(64, 64), (128, 128)]),
        ("cogvideox", "CogVideoXPipeline", 8, 9, [(64, 64), (128, 128)]),
    ]
    steps = 4
    print("\n| tiny pipeline | size | frames | steps | load (s) | s/step | end to end (s) |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name, pipeline, fps, frames, sizes in cases:
            folder = tiny.BUILDERS[name](root / name)
            for width, height in sizes:
                job = root / f"{name}-{width}"
                job.mkdir()
                load = LoadSpec(
                    model_id=f"{name}-{width}",
                    source=str(folder),
                    pipeline_class=pipeline,
                    device="cpu",
                    dtype="float32",
                    threads=1,
                )
                task = DiffusionTask(
                    load=load,
                    mode="t2v",
                    pipeline_class=pipeline,
                    prompt="a red fox runs",
                    negative_prompt="",
                    width=width,
                    height=height,
                    frames=frames,
                    fps=fps,
                    steps=steps,
                    guidance_scale=5.0,
                    seed=0,
                    audio=True,
                    audio_source="procedural",
                    audio_sample_rate=24_000,
                    folder=str(job),
                )
                step_times = _step_times(job)
                started = time.perf_counter()
                result = run(task)
                total = time.perf_counter() - started
                per_step = _per_step(step_times.stop())
                print(
                    f"| {name} | {width}x{height} | {result.frames} | {steps} | {result.load_seconds:.2f} | "
                    f"{per_step:.3f} | {total:.2f} |"
                )


class _ProgressWatch:
    """Timestamps of the progress file's changes (one per denoising step), read by a thread."""

    def __init__(self, folder: Path) -> None:
        import threading

        self.folder = folder
        self.stamps: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        last = ""
        while not self._stop.is_set():
            try:
                text = (self.folder / "progress").read_text()
            except OSError:
                text = ""
            if text and text != last:
                self.stamps.append((time.perf_counter(), text))
                last = text
            time.sleep(0.001)

    def stop(self) -> list[tuple[float, str]]:
        self._stop.set()
        self._thread.join()
        return self.stamps


def _step_times(folder: Path) -> _ProgressWatch:
    return _ProgressWatch(folder)


def _per_step(stamps: list[tuple[float, str]]) -> float:
    """Mean seconds between step reports (between 0.05 and 0.9: the denoising share of progress)."""
    steps = [t for t, text in stamps if 0.05 < float(text) <= 0.9]
    if len(steps) < 2:
        return float("nan")
    return (steps[-1] - steps[0]) / (len(steps) - 1)


# -- GPU: the real architectures with random weights ------------------------------------------------------


def gpu(steps: int) -> None:
    import torch

    clips = [  # (model, builder, fps, frames for 5 s, sizes)
        ("wan2.1-1.3b", _wan21_13b, 16, 81, [(832, 480), (1280, 720)]),
        ("wan2.2-ti2v-5b", _wan22_ti2v_5b, 24, 121, [(832, 480), (1280, 704)]),
    ]
    print()
    print(f"| model | size | frames | s/step | {steps} steps e2e (s) | 50 steps e2e (s, extrapolated) | published |")
    print("|---|---|---|---|---|---|---|")
    for name, build, fps, frames, sizes in clips:
        pipe = build()
        for width, height in sizes:
            stamps: list[float] = []

            on_step = _stamper(stamps)
            torch.cuda.synchronize()
            started = time.perf_counter()
            out = pipe(
                prompt="a red fox runs over a snow field",
                height=height,
                width=width,
                num_frames=frames,
                num_inference_steps=steps,
                guidance_scale=5.0,
                output_type="np",
                callback_on_step_end=on_step,
                generator=torch.Generator("cpu").manual_seed(0),
            )
            _export(out.frames[0], fps)
            total = time.perf_counter() - started
            per_step = (stamps[-1] - stamps[0]) / max(1, len(stamps) - 1)
            fifty = total + (50 - steps) * per_step
            print(
                f"| {name} | {width}x{height} | {frames} | {per_step:.2f} | {total:.1f} | {fifty:.0f} | "
                f"{PUBLISHED[name]} |"
            )
        del pipe
        torch.cuda.empty_cache()


def _stamper(stamps: list[float]) -> Any:
    """A step callback that records when each denoising step ended."""
    import torch

    def on_step(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        return tensors

    return on_step


def _export(frames: Any, fps: int) -> None:
    from reelay.engine.audio import ambient_bed
    from reelay.engine.diffusion.media import rgb_frames
    from reelay.engine.diffusion.runner import _export as export

    rgb = rgb_frames(frames)
    with tempfile.TemporaryDirectory() as scratch:
        export(rgb, fps, ambient_bed("bench", 0, len(rgb) / fps), Path(scratch) / "out.mp4")


def _text_encoder() -> Any:
    """UMT5-XXL's encoder (the text encoder of every Wan model) at its published size, random weights."""
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(
        vocab_size=256384,
        d_model=4096,
        d_kv=64,
        d_ff=10240,
        num_layers=24,
        num_heads=64,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu",
        pad_token_id=0,
        eos_token_id=1,
    )
    return UMT5EncoderModel(config)


def _wan(transformer_config: dict[str, Any], vae_config: dict[str, Any], *, expand_timesteps: bool) -> Any:
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel

    from reelay.engine.diffusion.tiny import tokenizer

    with torch.device("cuda"):
        transformer = WanTransformer3DModel(**transformer_config).to(torch.bfloat16)
        vae = AutoencoderKLWan(**vae_config)  # float32, as the Wan examples run it
        text_encoder = _text_encoder().to(torch.bfloat16)
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0)
    pipe = WanPipeline(
        tokenizer=tokenizer(),
        text_encoder=text_encoder,
        vae=vae,
        scheduler=scheduler,
        transformer=transformer,
        expand_timesteps=expand_timesteps,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _wan21_13b() -> Any:
    """Wan2.1-T2V-1.3B: 30 layers, 12 heads x 128, FFN 8960, 16-channel VAE (1.42 B transformer params)."""
    transformer = dict(
        patch_size=(1, 2, 2),
        num_attention_heads=12,
        attention_head_dim=128,
        in_channels=16,
        out_channels=16,
        text_dim=4096,
        freq_dim=256,
        ffn_dim=8960,
        num_layers=30,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        rope_max_seq_len=1024,
    )
    return _wan(transformer, {}, expand_timesteps=False)  # AutoencoderKLWan's defaults are Wan 2.1's VAE


def _wan22_ti2v_5b() -> Any:
    """Wan2.2-TI2V-5B: 30 layers, 24 heads x 128, FFN 14336, 48-channel high-compression VAE (16x16x4)."""
    transformer = dict(
        patch_size=(1, 2, 2),
        num_attention_heads=24,
        attention_head_dim=128,
        in_channels=48,
        out_channels=48,
        text_dim=4096,
        freq_dim=256,
        ffn_dim=14336,
        num_layers=30,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        rope_max_seq_len=1024,
    )
    vae = dict(
        base_dim=160,
        decoder_base_dim=256,
        z_dim=48,
        dim_mult=[1, 2, 4, 4],
        num_res_blocks=2,
        temperal_downsample=[False, True, True],
        is_residual=True,
        in_channels=12,
        out_channels=12,
        patch_size=2,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48,
    )
    return _wan(transformer, vae, expand_timesteps=True)


if __name__ == "__main__":
    sys.exit(main())
