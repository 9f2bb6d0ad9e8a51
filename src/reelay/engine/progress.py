"""Progress reporting and cooperative cancellation, shared by every render mode.

Callers poll a job's progress over HTTP, so reports are throttled to about every 5 % of frames;
cancellation is checked between frames, the only place a render can stop cleanly.
"""

from __future__ import annotations

from collections.abc import Callable

from reelay.engine.spec import RenderCancelled

REPORT_STEP = 0.05


class FrameTicker:
    """Counts frames, reports throttled progress and raises ``RenderCancelled`` when asked to stop."""

    def __init__(
        self,
        total: int,
        progress: Callable[[float], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.total = max(1, total)
        self._progress = progress
        self._should_stop = should_stop
        self._last = 0.0

    def check(self) -> None:
        """Raise ``RenderCancelled`` if the caller asked to stop."""
        if self._should_stop is not None and self._should_stop():
            raise RenderCancelled("render cancelled")

    def tick(self, done: int) -> None:
        """Call after ``done`` frames are written: checks cancellation, maybe reports progress."""
        self.check()
        if self._progress is None:
            return
        fraction = min(done / self.total, 1.0)
        if fraction - self._last >= REPORT_STEP and fraction < 1.0:
            self._last = fraction
            self._progress(fraction)
