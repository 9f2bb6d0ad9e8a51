"""The retry policy, in one object: how often a job is tried and how long to wait between tries.

Used for failed submissions and failed generations (the job goes back to ``submit`` with a due
time), and for transient poll errors (the run is polled again later). The delay is jittered
exponential backoff, never sooner than the provider's ``Retry-After``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from reelay.errors import UpstreamError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before try ``attempt + 1``: base × 2^(attempt-1), capped, jittered ±50 %, and at
        least the provider's ``Retry-After``."""
        delay = min(self.backoff_cap, self.backoff_base * 2.0 ** (max(1, attempt) - 1))
        return max(delay * random.uniform(0.5, 1.5), retry_after or 0.0)

    def should_retry(self, error: UpstreamError, attempts: int) -> bool:
        """A retryable error with tries left (``attempts``: tries made so far)."""
        return error.retryable and attempts < self.max_attempts


def counts_against_provider(error: UpstreamError) -> bool:
    """Failures that say something about the provider's health (not about the request)."""
    return error.retryable or error.code == "upstream_auth_failed"


__all__ = ["RetryPolicy", "counts_against_provider"]
