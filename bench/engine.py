"""Benchmark of the local procedural engine: `python bench/engine.py`.

Renders 5 s 1280x720 clips in each mode (median of 3 runs, end to end through ``render()``,
including writing the MP4), times frame synthesis alone for t2v/i2v, and prints the machine,
the date and a table. Then the floor and where a text-to-video render's time goes: x264 alone
encoding the same 120 frames (the render's own yuv420p frames) with the writer's own settings
(preset, crf, threads), alternating with the render in the same run (``--pairs``), and each stage
alone (synthesis in yuv420p, the RGB reference and its swscale conversion for comparison, the
audio bed, AAC, the final probe), in wall and CPU seconds, with the load average.
``--only-t2v`` skips the other modes. It reports; it does not assert (tests never time anything).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from PIL import Image

from machine import cpu_model  # bench/machine.py (scripts run from bench/)
from reelay.engine import RenderSpec, make_spritesheet, make_thumbnail, render
from reelay.engine.audio import ambient_bed
from reelay.engine.encode import (
    AUDIO_CODER,
    VIDEO_CRF,
    VIDEO_PRESET,
    VIDEO_THREAD_TYPE,
    add_audio_stream,
    add_video_stream,
)
from reelay.engine.frames import Canvas
from reelay.engine.image2video import image_frames
from reelay.engine.probe import probe
from reelay.engine.text2video import text_frames, text_video_frames

RUNS = 3
W, H, SECONDS = 1280, 720, 5.0


Timing = tuple[float, float]  # wall seconds, CPU seconds


def median_time(fn: Callable[[], object], runs: int = RUNS) -> float:
    return timed(fn, runs)[0]


def timed(fn: Callable[[], object], runs: int = RUNS) -> Timing:
    """Median wall seconds and median CPU seconds (all threads of this process) of ``fn``."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def x264_alone(frames: list[av.VideoFrame]) -> None:
    """What ``Mp4Writer`` asks of libx264, with nothing else: yuv420p frames in, an MP4 in memory out."""
    container = av.open(io.BytesIO(), "w", format="mp4")
    stream = add_video_stream(container, W, H, 24)
    for n, frame in enumerate(frames):
        frame.pts = n
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()


def aac_alone(pcm: np.ndarray) -> None:
    container = av.open(io.BytesIO(), "w", format="mp4")
    stream = add_audio_stream(container)
    for start in range(0, pcm.shape[1], 1024):
        chunk = np.ascontiguousarray(pcm[:, start : start + 1024])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 48_000, start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()


def interleaved(first: Callable[[], object], second: Callable[[], object], runs: int) -> tuple[Timing, Timing]:
    """Median wall and CPU seconds of each, run alternately so both see the same load."""
    a: list[tuple[float, float]] = []
    b: list[tuple[float, float]] = []
    for _ in range(runs):
        a.append(timed(first, 1))
        b.append(timed(second, 1))
    return _median(a), _median(b)


def _median(samples: list[tuple[float, float]]) -> Timing:
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def where_the_time_goes(spec: RenderSpec, out: Path, runs: int) -> None:
    """The end-to-end t2v render beside x264's own time for the same frames, and each stage alone."""
    yuv = list(text_video_frames(spec))
    canvas = Canvas(W, H)
    pcm = ambient_bed(spec.prompt, spec.seed, SECONDS)
    render(spec, out)
    x264_alone(yuv)
    end_to_end, floor = interleaved(lambda: render(spec, out), lambda: x264_alone(yuv), runs)
    rows = [
        ("render() end to end", end_to_end),
        ("x264 alone, same frames (floor)", floor),
        ("frame synthesis, yuv420p planes (renders)", timed(lambda: [None for _ in text_video_frames(spec)])),
        ("  RGB canvas frames (the reference)", timed(lambda: [None for _ in text_frames(spec)])),
        ("  canvas -> yuv420p (swscale), 120 times", timed(lambda: [canvas.to_yuv420p() for _ in range(len(yuv))])),
        ("audio bed synthesis", timed(lambda: ambient_bed(spec.prompt, spec.seed, SECONDS))),
        ("AAC encode alone", timed(lambda: aac_alone(pcm))),
        ("final probe", timed(lambda: probe(out))),
    ]
    print(
        f"\nwhere a t2v render's time goes (render and floor: median of {runs} alternating runs; stages: median "
        f"of {RUNS}; CPU counts every thread of this process; indented rows are not part of a render)"
    )
    print(f"{'stage':44} {'wall s':>7} {'cpu s':>7} {'wall x':>7} {'cpu x':>7}")
    for label, (wall, cpu) in rows:
        print(f"{label:44} {wall:7.2f} {cpu:7.2f} {wall / floor[0]:7.2f} {cpu / floor[1]:7.2f}")
    print(
        f"end to end / floor: {end_to_end[0] / floor[0]:.2f}x wall, {end_to_end[1] / floor[1]:.2f}x CPU "
        f"(load average now: {_load()})"
    )


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def make_reference(path: Path) -> Path:
    """A 1920x1080 JPEG with photo-like detail (smoothed noise plus gradients)."""
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 256, (68, 120, 3), dtype=np.uint8)).resize((1920, 1080), Image.BICUBIC)
    grain = rng.integers(-12, 13, (1080, 1920, 3))
    pixels = np.clip(np.asarray(base, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only-t2v", action="store_true", help="skip the other modes' table")
    parser.add_argument("--pairs", type=int, default=5, help="alternating render / x264-alone runs (default 5)")
    args = parser.parse_args()
    print("Reelay local engine benchmark")
    print(f"date     {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(f"machine  nproc={len(os.sched_getaffinity(0))}  cpu={cpu_model()}  load average {_load()}")
    print(
        f"software python {platform.python_version()}, av {av.__version__}, numpy {np.__version__}, "
        f"Pillow {Image.__version__}; libx264 preset={VIDEO_PRESET} crf={VIDEO_CRF} "
        f"threads=auto/{VIDEO_THREAD_TYPE}; AAC coder {AUDIO_CODER}"
    )
    print(f"clips    {W}x{H}, {SECONDS:g} s, 24 fps, AAC 48 kHz stereo; median of {RUNS} runs\n")
    with tempfile.TemporaryDirectory(prefix="reelay-bench-") as tmp_name:
        tmp = Path(tmp_name)
        image = make_reference(tmp / "reference.jpg")
        source = tmp / "source.mp4"
        render(RenderSpec("t2v", "a neon city street in the rain", W, H, SECONDS, seed=1), source)
        t2v = RenderSpec("t2v", "snow falling over a quiet forest at night", W, H, SECONDS, seed=3)
        i2v = RenderSpec("i2v", "a calm lake", W, H, SECONDS, seed=3, image_path=image)
        extend = RenderSpec("extend", "the camera drifts on", W, H, SECONDS, seed=3, video_path=source)

        def v2v(prompt: str) -> RenderSpec:
            return RenderSpec("v2v", prompt, W, H, SECONDS, video_path=source)

        if args.only_t2v:
            where_the_time_goes(t2v, tmp / "out.mp4", args.pairs)
            return 0
        rows: list[tuple[str, RenderSpec, float | None]] = [
            ("t2v  (text-to-video, audio bed)", t2v, 2.0),
            ("i2v  (Ken Burns, audio bed)", i2v, 3.0),
            ("v2v  vintage (input audio kept)", v2v("vintage"), 3.0),
            ("v2v  grayscale", v2v("black and white"), 3.0),
            ("v2v  default grade", v2v("make it pop"), None),
            ("v2v  blur", v2v("dreamy blur"), None),
            ("v2v  reverse", v2v("reverse"), None),
            ("v2v  slow motion (10 s out)", v2v("slow motion"), None),
            ("v2v  speed up (2.5 s out)", v2v("faster"), None),
            ("extend  5 s + 5 s (10 s out)", extend, 3.0),
        ]
        print(f"{'mode':34} {'median s':>9} {'x realtime':>10} {'size KB':>8} {'bar s':>6}  ok")
        for label, spec, bar in rows:
            out = tmp / "out.mp4"
            seconds = median_time(lambda spec=spec, out=out: render(spec, out))
            info_duration = render(spec, out).info.duration
            size = out.stat().st_size // 1024
            verdict = "" if bar is None else ("yes" if seconds <= bar else "NO")
            bar_text = "" if bar is None else f"{bar:.1f}"
            print(f"{label:34} {seconds:9.2f} {info_duration / seconds:10.1f} {size:8d} {bar_text:>6}  {verdict}")

        print("\nframe synthesis alone (no encoding; a producer thread overlaps it with x264 in a real render)")
        synth_t2v = median_time(lambda: list(text_video_frames(t2v)))
        synth_i2v = median_time(lambda: list(image_frames(i2v)))
        print(f"  t2v: {synth_t2v:.2f} s for 120 frames drawn in yuv420p ({120 / synth_t2v:.0f} fps)")
        print(f"  i2v: {synth_i2v:.2f} s for 120 frames incl. swscale to yuv420p ({120 / synth_i2v:.0f} fps)")

        where_the_time_goes(t2v, tmp / "out.mp4", args.pairs)

        print("\nposters")
        thumb = median_time(lambda: make_thumbnail(source, tmp / "poster.jpg"))
        sprites = median_time(lambda: make_spritesheet(source, tmp / "sprites.jpg"))
        print(f"  thumbnail {thumb:.3f} s, 5x5 spritesheet {sprites:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
