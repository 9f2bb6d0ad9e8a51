"""Extend: the input video, then ``spec.seconds`` more that continue from its last frame.

The result is the JOINED clip (what ``POST /v1/videos/extensions`` returns): the input,
normalised to the output size and a constant rate but otherwise untouched, followed by the
image-to-video camera move (``image2video.window``: an eased 1.0 -> 1.2 zoom with a drift) over
the input's last frame, so the seam shows no jump. The prompt and seed pick the drift direction
and the ambient bed that continues the sound. Everything is one re-encoded H.264 stream: an
input from any encoder, rate or size cannot be stream-copied next to freshly encoded frames.

The joined clip is capped at ``MAX_TOTAL_SECONDS``: the added part always has the requested
length, and an input too long to fit loses its head (the seam must stay at its last frame).
Mode-specific logic only; the atomic write and the final probe live in ``render``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Generator, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from reelay.engine.audio import ambient_bed, fit_length
from reelay.engine.audiotrack import read_audio
from reelay.engine.coverfit import cover_filters
from reelay.engine.encode import Mp4Writer
from reelay.engine.image2video import window
from reelay.engine.probe import probe
from reelay.engine.progress import FrameTicker
from reelay.engine.seeding import derive_seed
from reelay.engine.spec import AUDIO_RATE, RenderSpec
from reelay.engine.video2video import drain_filter_graph, rotation_filters
from reelay.errors import InvalidMedia

MAX_TOTAL_SECONDS = 30.0
AV_TIME_BASE = 1_000_000  # libav's fallback time base, for a stream that reports none
CROSSFADE_SECONDS = 0.3
BED_LEAD_SECONDS = 0.5  # ambient_bed fades in over its first half second; the cross-fade replaces that
TAIL_RMS_SECONDS = 2.0  # input audio measured to set the bed's level
MIN_BED_GAIN = 0.3  # the bed never drops below -10 dB of its normal level, even after a quiet input


def render_extension(
    spec: RenderSpec,
    out: Path,
    *,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Write input + extension to ``out``; return the edit name, ``"extend"``."""
    assert spec.video_path is not None  # guaranteed by RenderSpec validation
    info = probe(spec.video_path)
    kept = min(info.duration, MAX_TOTAL_SECONDS - spec.seconds)
    skip = info.duration - kept
    input_frames = max(1, round(kept * spec.fps))
    ticker = FrameTicker(input_frames + spec.frame_count, progress, should_stop)
    pcm = _soundtrack(spec, info.has_audio, skip, input_frames) if spec.audio else None
    source = _input_frames(spec.video_path, spec, skip, ticker)
    with contextlib.closing(source), Mp4Writer(out, spec.width, spec.height, spec.fps, pcm) as writer:
        last: av.VideoFrame | None = None
        for frame in source:
            if writer.frames >= input_frames:
                break
            writer.add(frame)
            last = frame
            ticker.tick(writer.frames)
        if last is None:
            raise InvalidMedia(f"{spec.video_path.name} has no decodable video frames")
        while writer.frames < input_frames:  # the fps filter may stop a frame short of the duration
            writer.add(last)
            ticker.tick(writer.frames)
        for frame in camera_frames(last, spec):
            writer.add(frame)
            ticker.tick(writer.frames)
    return "extend"


def camera_frames(last: av.VideoFrame, spec: RenderSpec) -> Iterator[av.VideoFrame]:
    """``spec.frame_count`` frames of the eased zoom-and-drift over ``last`` (a yuv420p frame).

    Frame ``i`` is the i2v camera at progress ``(i + 1) / n``: the move starts from ``last``
    itself (so the first added frame is a sub-pixel step away from it) and ends at 1.2x zoom.
    Windows are cropped from the planes on even coordinates and scaled by swscale, so there is
    no RGB round trip.
    """
    width, height, n = spec.width, spec.height, spec.frame_count
    y_plane, u_plane, v_plane = _planes(last.to_ndarray(format="yuv420p"), width, height)
    angle = (derive_seed(spec.prompt, spec.seed, "extend-pan") % 8) * math.pi / 4
    direction = (math.cos(angle), math.sin(angle))
    for i in range(n):
        x, y, w, h = (v - v % 2 for v in window((i + 1) / n, width, height, width / height, direction))
        cx, cy, cw, ch = x // 2, y // 2, w // 2, h // 2
        packed = np.concatenate(
            (
                y_plane[y : y + h, x : x + w].ravel(),
                u_plane[cy : cy + ch, cx : cx + cw].ravel(),
                v_plane[cy : cy + ch, cx : cx + cw].ravel(),
            )
        ).reshape(h * 3 // 2, w)
        crop = av.VideoFrame.from_ndarray(packed, format="yuv420p")
        yield crop.reformat(width, height, format="yuv420p", interpolation="BICUBIC")


def _planes(i420: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a packed (h * 3/2, w) I420 array into its Y, U and V planes."""
    quarter = (height // 2) * (width // 2)
    chroma = i420[height:].ravel()
    return (
        i420[:height],
        chroma[:quarter].reshape(height // 2, width // 2),
        chroma[quarter : 2 * quarter].reshape(height // 2, width // 2),
    )


def _soundtrack(spec: RenderSpec, has_audio: bool, skip: float, input_frames: int) -> np.ndarray:
    """The input's audio up to the seam, cross-faded into the ambient bed for the added part.

    An input without audio gets one continuous bed for the whole clip (as video-to-video does).
    """
    assert spec.video_path is not None
    seam = input_frames * AUDIO_RATE // spec.fps
    total = seam + spec.frame_count * AUDIO_RATE // spec.fps
    if not has_audio:
        return ambient_bed(spec.prompt, spec.seed, total / AUDIO_RATE)
    start = round(skip * AUDIO_RATE)
    kept = fit_length(read_audio(spec.video_path, (start + seam) / AUDIO_RATE)[:, start:], seam)
    fade = min(round(CROSSFADE_SECONDS * AUDIO_RATE), seam)
    lead = round(BED_LEAD_SECONDS * AUDIO_RATE)
    bed = ambient_bed(spec.prompt, spec.seed, (lead + fade + total - seam) / AUDIO_RATE)[:, lead:]
    bed = fit_length(bed, fade + total - seam) * _bed_gain(kept, bed)
    ramp = np.sin(np.linspace(0.0, np.pi / 2, fade, dtype=np.float32)) ** 2  # equal power in, out
    out = np.zeros((2, total), dtype=np.float32)
    out[:, :seam] = kept
    out[:, seam - fade : seam] *= ramp[::-1]
    bed[:, :fade] *= ramp
    out[:, seam - fade :] += bed
    return out


def _bed_gain(kept: np.ndarray, bed: np.ndarray) -> float:
    """Scale the bed down towards the loudness of the input's last seconds (never up)."""
    tail = kept[:, -round(TAIL_RMS_SECONDS * AUDIO_RATE) :]
    tail_rms = float(np.sqrt(np.mean(np.square(tail)))) if tail.size else 0.0
    bed_rms = float(np.sqrt(np.mean(np.square(bed)))) if bed.size else 0.0
    if bed_rms == 0.0:
        return 1.0
    return min(1.0, max(MIN_BED_GAIN, tail_rms / bed_rms))


def _input_frames(
    path: Path, spec: RenderSpec, skip: float, ticker: FrameTicker
) -> Generator[av.VideoFrame, None, None]:
    """The input's frames from ``skip`` seconds on, as yuv420p at the output size and rate."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            time_base = stream.time_base or Fraction(1, AV_TIME_BASE)
            origin = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
            if skip > 0:  # land on the keyframe before the cut; earlier frames are dropped below
                container.seek(round((origin + skip) / time_base), stream=stream, backward=True)
            graph: av.filter.Graph | None = None
            for frame in container.decode(stream):
                ticker.check()
                if skip > 0 and frame.time is not None and frame.time < origin + skip - 1e-6:
                    continue
                if graph is None:
                    graph = _build_graph(stream, frame, spec)
                graph.push(frame)
                yield from drain_filter_graph(graph)
            if graph is not None:
                graph.push(None)
                yield from drain_filter_graph(graph)
    except av.FFmpegError as exc:
        raise InvalidMedia(f"{path.name} could not be decoded; re-export it as H.264 MP4") from exc


def _build_graph(stream: av.video.stream.VideoStream, first: av.VideoFrame, spec: RenderSpec) -> av.filter.Graph:
    """buffer -> pts from zero -> constant rate -> rotation -> cover-fit -> yuv420p -> buffersink."""
    graph = av.filter.Graph()
    chain = [graph.add_buffer(width=first.width, height=first.height, format=first.format, time_base=stream.time_base)]
    filters = [
        ("setpts", "PTS-STARTPTS"),
        ("fps", str(spec.fps)),
        *rotation_filters(first.rotation),
        *cover_filters(spec.width, spec.height),
        ("setsar", "1"),
        ("format", "yuv420p"),
    ]
    for name, args in filters:
        chain.append(graph.add(name, args))
    chain.append(graph.add("buffersink"))
    graph.link_nodes(*chain)
    graph.configure()
    return graph
