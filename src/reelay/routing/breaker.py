"""A circuit breaker per provider: one that keeps failing is taken out of the pool for a while.

closed ──(failure_threshold consecutive failures)──▶ open ──(cooldown)──▶ half-open
half-open: one trial is let through; success closes the circuit, failure opens it again.

State lives behind ``BreakerState`` so the scale-out mode can keep it in shared storage; the
embedded default keeps it in this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass
class CircuitSnapshot:
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False


class BreakerState(Protocol):
    def load(self, provider: str) -> CircuitSnapshot: ...

    def save(self, provider: str, snapshot: CircuitSnapshot) -> None: ...


class MemoryBreakerState:
    def __init__(self) -> None:
        self._circuits: dict[str, CircuitSnapshot] = {}

    def load(self, provider: str) -> CircuitSnapshot:
        return self._circuits.setdefault(provider, CircuitSnapshot())

    def save(self, provider: str, snapshot: CircuitSnapshot) -> None:
        self._circuits[provider] = snapshot


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown_seconds: float = 30.0,
        state: BreakerState | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self.state = state or MemoryBreakerState()
        self.clock = clock

    def status(self, provider: str) -> str:
        """ "closed", "open" or "half-open"."""
        snapshot = self.state.load(provider)
        if snapshot.opened_at is None:
            return "closed"
        if self.clock() - snapshot.opened_at >= self.cooldown_seconds:
            return "half-open"
        return "open"

    def allow(self, provider: str) -> bool:
        """May a request go to ``provider`` now? In half-open, only one trial at a time."""
        snapshot = self.state.load(provider)
        status = self.status(provider)
        if status == "closed":
            return True
        if status == "half-open" and not snapshot.trial_in_flight:
            snapshot.trial_in_flight = True
            self.state.save(provider, snapshot)
            return True
        return False

    def record_success(self, provider: str) -> None:
        self.state.save(provider, CircuitSnapshot())

    def record_failure(self, provider: str) -> None:
        snapshot = self.state.load(provider)
        snapshot.failures += 1
        snapshot.trial_in_flight = False
        if snapshot.opened_at is not None or snapshot.failures >= self.failure_threshold:
            snapshot.opened_at = self.clock()  # (re)open: a failed trial restarts the cooldown
        self.state.save(provider, snapshot)
