"""Video-to-video: decode the input, run it through a libavfilter chain, re-encode.

The chain always normalises first (timestamps from zero, speed change, constant output rate,
display rotation, optional zoom, cover-fit to the output size) and then applies the prompt's
edits (``edits``). Variable frame rate, odd sizes and any decodable codec therefore come out as
a clean constant-rate yuv420p stream. The input's audio is kept (resampled, re-timed, reversed
to match); an input without audio gets the ambient bed when audio is wanted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import av
import numpy as np

from reelay.engine.audio import ambient_bed, fit_length
from reelay.engine.audiotrack import change_tempo, read_audio
from reelay.engine.coverfit import cover_filters
from reelay.engine.edits import EditPlan, Filter, plan_edits
from reelay.engine.encode import Mp4Writer
from reelay.engine.probe import probe
from reelay.engine.progress import FrameTicker
from reelay.engine.spec import AUDIO_RATE, MAX_SECONDS, MediaInfo, RenderSpec
from reelay.errors import InvalidMedia


def render_video_edit(
    spec: RenderSpec,
    out: Path,
    *,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Write the edited video to ``out``; return the applied edit name(s), joined with '+'."""
    assert spec.video_path is not None  # guaranteed by RenderSpec validation
    info = probe(spec.video_path)
    plan = plan_edits(spec.prompt, spec.seed)
    in_seconds = min(info.duration, MAX_SECONDS * plan.speed)
    total = max(1, round(in_seconds / plan.speed * spec.fps))
    ticker = FrameTicker(total, progress, should_stop)
    pcm = _soundtrack(spec, info, plan, in_seconds, total / spec.fps)
    source = _edited_frames(spec.video_path, spec, plan, in_seconds, ticker)
    with contextlib.closing(source), Mp4Writer(out, spec.width, spec.height, spec.fps, pcm) as writer:
        frames = iter(_take(source, total)[::-1]) if plan.reverse else source
        last: av.VideoFrame | None = None
        for frame in frames:
            if writer.frames >= total:
                break
            writer.add(frame)
            last = frame
            ticker.tick(writer.frames)
        if last is None:
            raise InvalidMedia(f"{spec.video_path.name} has no decodable video frames")
        while writer.frames < total:  # the fps filter may stop a frame short of the audio
            writer.add(last)
            ticker.tick(writer.frames)
    return plan.name


def _take(frames: Iterator[av.VideoFrame], limit: int) -> list[av.VideoFrame]:
    out: list[av.VideoFrame] = []
    for frame in frames:
        if len(out) >= limit:
            break
        out.append(frame)
    return out


def _soundtrack(
    spec: RenderSpec, info: MediaInfo, plan: EditPlan, in_seconds: float, out_seconds: float
) -> np.ndarray | None:
    """The input's audio edited to match the picture, or the ambient bed, or None."""
    if not spec.audio:
        return None
    if not info.has_audio:
        return ambient_bed(spec.prompt, spec.seed, out_seconds)
    assert spec.video_path is not None
    pcm = change_tempo(read_audio(spec.video_path, in_seconds), plan.speed)
    if plan.reverse:
        pcm = np.ascontiguousarray(pcm[:, ::-1])
    return fit_length(pcm, round(out_seconds * AUDIO_RATE))


def _edited_frames(
    path: Path, spec: RenderSpec, plan: EditPlan, in_seconds: float, ticker: FrameTicker
) -> Generator[av.VideoFrame, None, None]:
    """Decoded, filtered yuv420p frames at the output size and rate, in input order."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            graph: av.filter.Graph | None = None
            start: float | None = None
            for frame in container.decode(stream):
                ticker.check()
                if frame.time is not None:
                    start = frame.time if start is None else start
                    if frame.time - start >= in_seconds:
                        break
                if graph is None:
                    graph = _build_graph(stream, frame, spec, plan)
                graph.push(frame)
                yield from drain_filter_graph(graph)
            if graph is not None:
                graph.push(None)
                yield from drain_filter_graph(graph)
    except av.FFmpegError as exc:
        raise InvalidMedia(f"{path.name} could not be decoded; re-export it as H.264 MP4") from exc


def drain_filter_graph(graph: av.filter.Graph) -> Iterator[av.VideoFrame]:
    while True:
        try:
            frame = graph.vpull()
        except (av.BlockingIOError, av.EOFError):
            return
        yield frame


def _build_graph(
    stream: av.video.stream.VideoStream, first: av.VideoFrame, spec: RenderSpec, plan: EditPlan
) -> av.filter.Graph:
    """buffer -> normalise (pts, speed, fps, rotation, zoom, cover-fit) -> edits -> buffersink."""
    graph = av.filter.Graph()
    chain = [graph.add_buffer(width=first.width, height=first.height, format=first.format, time_base=stream.time_base)]
    for name, args in _normalise(first, spec, plan) + list(plan.filters) + [("format", "yuv420p")]:
        chain.append(graph.add(name, args))
    chain.append(graph.add("buffersink"))
    graph.link_nodes(*chain)
    graph.configure()
    return graph


def _normalise(first: av.VideoFrame, spec: RenderSpec, plan: EditPlan) -> list[Filter]:
    filters: list[Filter] = [
        ("setpts", f"(PTS-STARTPTS)/{plan.speed}"),
        ("fps", str(spec.fps)),
    ]
    filters += rotation_filters(first.rotation)
    if plan.zoom > 1.0:
        filters.append(("crop", f"iw/{plan.zoom}:ih/{plan.zoom}"))
    filters += cover_filters(spec.width, spec.height)
    filters.append(("setsar", "1"))
    return filters


def rotation_filters(counterclockwise: int) -> list[Filter]:
    """Undo a phone's display-matrix rotation the way the ffmpeg CLI's autorotate does."""
    theta = -counterclockwise % 360
    if abs(theta - 90) < 1:
        return [("transpose", "clock")]
    if abs(theta - 180) < 1:
        return [("hflip", ""), ("vflip", "")]
    if abs(theta - 270) < 1:
        return [("transpose", "cclock")]
    return []
