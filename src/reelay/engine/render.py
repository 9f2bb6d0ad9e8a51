"""``render()``: one entry point that validates, dispatches by mode and writes the MP4 atomically.

Progress, cancellation, the temporary-file dance and the final probe live here so each mode
module only has to produce frames and audio.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from pathlib import Path

from reelay.engine.audio import ambient_bed
from reelay.engine.encode import Mp4Writer
from reelay.engine.extend import render_extension
from reelay.engine.files import atomic_path
from reelay.engine.frames import ahead
from reelay.engine.image2video import image_frames
from reelay.engine.probe import probe
from reelay.engine.progress import FrameTicker
from reelay.engine.spec import RenderResult, RenderSpec
from reelay.engine.text2video import text_video_frames
from reelay.engine.video2video import render_video_edit


def render(
    spec: RenderSpec,
    out_path: Path,
    *,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RenderResult:
    """Render ``spec`` to an MP4 at ``out_path`` (H.264 yuv420p, AAC 48 kHz stereo, faststart).

    ``progress`` gets fractions in 0..1 about every 5 % of frames and 1.0 once the file is in
    place; ``should_stop`` is polled between frames and, when true, ``RenderCancelled`` is raised
    and no file is left behind. ``out_path`` is only ever replaced by a complete file.
    """
    out_path = Path(out_path)
    edit: str | None = None
    with atomic_path(out_path) as tmp:
        if spec.mode == "v2v":
            edit = render_video_edit(spec, tmp, progress=progress, should_stop=should_stop)
        elif spec.mode == "extend":
            edit = render_extension(spec, tmp, progress=progress, should_stop=should_stop)
        else:
            _render_generated(spec, tmp, FrameTicker(spec.frame_count, progress, should_stop))
    info = probe(out_path)
    if progress is not None:
        progress(1.0)
    return RenderResult(path=out_path, info=info, edit=edit)


def _render_generated(spec: RenderSpec, tmp: Path, ticker: FrameTicker) -> None:
    """t2v and i2v: frames made on a producer thread, the audio bed made and encoded on the writer's
    audio thread, while this thread does nothing but feed x264 and mux."""
    ticker.check()
    made = text_video_frames(spec) if spec.mode == "t2v" else image_frames(spec)
    with contextlib.closing(ahead(made)) as frames:
        bed = functools.partial(ambient_bed, spec.prompt, spec.seed, spec.frame_count / spec.fps)
        with Mp4Writer(tmp, spec.width, spec.height, spec.fps, bed if spec.audio else None) as writer:
            for frame in frames:
                writer.add(frame)
                ticker.tick(writer.frames)
