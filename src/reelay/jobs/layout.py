"""Where a job's files live in storage: the one place the key layout is spelled.

- ``videos/<id>/<index>.mp4`` (+ ``.thumbnail.jpg``, ``.spritesheet.jpg``): the outputs.
- ``inputs/<id>/<name><suffix>``: what the client sent, stored so any worker on any machine reads it.
"""

from __future__ import annotations

import re

from reelay.jobs.postprocess import PreviewKind
from reelay.storage.base import Storage

_PREVIEW_KEY = re.compile(r"^(videos/[^/]+/\d+)\.(thumbnail|spritesheet)\.jpg$")


def output_keys(video_id: str, index: int) -> tuple[str, str, str]:
    """Storage keys of one output: the MP4, its poster and its spritesheet."""
    base = f"videos/{video_id}/{index}"
    return f"{base}.mp4", f"{base}.thumbnail.jpg", f"{base}.spritesheet.jpg"


def preview_source(key: str) -> tuple[str, PreviewKind] | None:
    """For an output's poster or spritesheet key: the key of its MP4 and which image it is."""
    match = _PREVIEW_KEY.match(key)
    if match is None:
        return None
    kind: PreviewKind = "thumbnail" if match.group(2) == "thumbnail" else "spritesheet"
    return f"{match.group(1)}.mp4", kind


def outputs_prefix(video_id: str) -> str:
    return f"videos/{video_id}/"


def inputs_prefix(video_id: str) -> str:
    return f"inputs/{video_id}/"


def input_key(video_id: str, name: str, suffix: str) -> str:
    """The key of one stored input, e.g. ``input_key(id, "reference0", ".png")``."""
    return f"{inputs_prefix(video_id)}{name}{suffix}"


async def delete_outputs(storage: Storage, video_id: str) -> None:
    await storage.delete_prefix(outputs_prefix(video_id))


async def delete_job_files(storage: Storage, video_id: str) -> None:
    """Every file of the job: outputs and inputs."""
    await storage.delete_prefix(outputs_prefix(video_id))
    await storage.delete_prefix(inputs_prefix(video_id))


__all__ = [
    "delete_job_files",
    "delete_outputs",
    "input_key",
    "inputs_prefix",
    "output_keys",
    "outputs_prefix",
    "preview_source",
]
