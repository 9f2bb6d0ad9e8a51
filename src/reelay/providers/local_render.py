"""What runs inside a render process: the engine call, with progress and cancel through files.

Files, not pipes, carry progress and cancellation between processes: they need no shared state,
survive a pool restart, and cost one small write every few percent.
"""

from __future__ import annotations

import os
from pathlib import Path


def render_job(
    *,
    mode: str,
    prompt: str,
    width: int,
    height: int,
    seconds: float,
    seed: int,
    audio: bool,
    image_path: str | None,
    video_path: str | None,
    folder: str,
) -> dict[str, object]:
    from reelay.engine import RenderSpec, render  # in the render process only: the API never loads av

    base = Path(folder)
    progress_file = base / "progress"
    cancel_file = base / "cancel"

    def report(fraction: float) -> None:
        tmp = progress_file.with_suffix(".tmp")
        tmp.write_text(f"{fraction:.3f}")
        os.replace(tmp, progress_file)

    spec = RenderSpec(
        mode=mode,  # type: ignore[arg-type]  # validated by the API before it reaches here
        prompt=prompt,
        width=width,
        height=height,
        seconds=seconds,
        seed=seed,
        audio=audio,
        image_path=Path(image_path) if image_path else None,
        video_path=Path(video_path) if video_path else None,
    )
    result = render(spec, base / "out.mp4", progress=report, should_stop=cancel_file.exists)
    return {"edit": result.edit, "duration": result.info.duration}
