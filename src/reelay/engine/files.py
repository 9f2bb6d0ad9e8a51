"""Atomic output: every file the engine writes appears complete or not at all.

A render can crash, be cancelled or be killed; writing to a temporary name next to the target and
``os.replace``-ing it at the end means a reader never sees a half-written MP4 or JPEG.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(out_path: Path) -> Iterator[Path]:
    """Yield a temporary path in ``out_path``'s folder; replace ``out_path`` with it on success.

    On any exception (including ``RenderCancelled``) the temporary file is removed and the
    exception propagates; ``out_path`` is left as it was.
    """
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        yield tmp
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
