"""Explicit per-provider limits: how many jobs may wait on a provider at once, and how fast new
ones may be submitted to it. A job over a limit stays queued (its video object says why) instead of
being refused upstream; the worker count has nothing to do with it.

Defaults follow what each provider publishes (docs/routing.md has the table and sources); where a
provider publishes no number, there is no default limit and its 429s are retried with backoff.
``reelay.toml`` overrides per provider instance (``max_in_flight``, ``submits_per_second``).

In-flight counts come from the job table (every process sees the same number, refreshed at most
every ``refresh_seconds`` and counted up locally in between); the submit rate is a token bucket in
each process, so with several workers the rate applies per worker process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderLimits:
    max_in_flight: int | None = None  # jobs submitted and not finished upstream; None: no limit
    submits_per_second: float | None = None  # None: no limit


# By adapter type. Sources: Replicate "create predictions at 600 requests per minute"
# (replicate.com/docs/topics/predictions/rate-limits); Runway tier 1 "max concurrency" 1 to 2 per
# model (docs.dev.runwayml.com/usage/tiers; raise it in reelay.toml for higher tiers). xAI, Gemini
# (Veo), fal, Luma and OpenAI-compatible servers publish no fixed number for video: no default.
DEFAULT_LIMITS: Mapping[str, ProviderLimits] = {
    "replicate": ProviderLimits(submits_per_second=10.0),
    "runway": ProviderLimits(max_in_flight=1),
}


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def wait_time(self) -> float:
        """0 if a token is free now (and take it), else seconds until one will be."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass(frozen=True)
class Admission:
    """May the job be submitted now? If not, when to look again and what to tell the client.
    ``reserved``: a place was taken that ``SubmitGate.release`` must give back."""

    allowed: bool
    retry_in: float = 0.0
    reason: str | None = None
    reserved: bool = False


class SubmitGate:
    """Admission to a provider, per provider instance (e.g. two xAI accounts count apart).

    In flight = jobs waiting on the provider per the job table (counted at most every
    ``refresh_seconds``) + jobs this process saw reach the wait since that count + jobs this process
    is submitting now. A lock makes check-and-reserve atomic and orders counts against releases, so
    the sum never under-counts (it may over-count a job for one refresh, which only delays).
    """

    def __init__(
        self,
        limits: Mapping[str, ProviderLimits],
        count_in_flight: Callable[[], Awaitable[dict[str, int]]],
        *,
        refresh_seconds: float = 0.5,
    ) -> None:
        self.limits = dict(limits)
        self._count = count_in_flight
        self._refresh_seconds = refresh_seconds
        self._counts: dict[str, int] = {}
        self._since_count: dict[str, int] = {}
        self._submitting: dict[str, int] = {}
        self._counted_at = -1e9
        self._lock = asyncio.Lock()
        self._buckets = {
            name: _Bucket(limit.submits_per_second) for name, limit in self.limits.items() if limit.submits_per_second
        }

    def limited(self, provider: str) -> bool:
        limit = self.limits.get(provider)
        return limit is not None and (limit.max_in_flight is not None or limit.submits_per_second is not None)

    async def _in_flight(self, provider: str) -> int:
        if time.monotonic() - self._counted_at > self._refresh_seconds:
            self._counts = await self._count()
            self._since_count = {}
            self._counted_at = time.monotonic()
        return self._counts.get(provider, 0) + self._since_count.get(provider, 0) + self._submitting.get(provider, 0)

    async def admit(self, provider: str) -> Admission:
        limit = self.limits.get(provider)
        if limit is None:
            return Admission(True)
        async with self._lock:
            if limit.max_in_flight is not None:
                waiting = await self._in_flight(provider)
                if waiting >= limit.max_in_flight:
                    return Admission(
                        False,
                        retry_in=1.0,
                        reason=f"queued: provider {provider} has {waiting} jobs in flight, its limit "
                        f"(max_in_flight = {limit.max_in_flight} in reelay.toml)",
                    )
            bucket = self._buckets.get(provider)
            if bucket is not None:
                wait = bucket.wait_time()
                if wait > 0:
                    return Admission(
                        False,
                        retry_in=wait,
                        reason=f"queued: provider {provider} takes {limit.submits_per_second:g} submissions a "
                        "second (submits_per_second in reelay.toml)",
                    )
            self._submitting[provider] = self._submitting.get(provider, 0) + 1
            return Admission(True, reserved=True)

    async def release(self, provider: str, *, now_waiting: bool) -> None:
        """The submission of an admitted job ended; ``now_waiting``: it is upstream (in flight)."""
        async with self._lock:
            self._submitting[provider] = max(0, self._submitting.get(provider, 0) - 1)
            if now_waiting:
                self._since_count[provider] = self._since_count.get(provider, 0) + 1

    def available(self, provider: str, counts: Mapping[str, int]) -> int | None:
        """How many more jobs ``provider`` takes now by the job table (None: no in-flight limit)."""
        limit = self.limits.get(provider)
        if limit is None or limit.max_in_flight is None:
            return None
        return max(0, limit.max_in_flight - counts.get(provider, 0) - self._submitting.get(provider, 0))


def resolve_limits(
    provider_types: Mapping[str, str], overrides: Mapping[str, ProviderLimits]
) -> dict[str, ProviderLimits]:
    """Each provider instance's limits: its reelay.toml values over its type's defaults."""
    resolved: dict[str, ProviderLimits] = {}
    for name, kind in provider_types.items():
        default = DEFAULT_LIMITS.get(kind, ProviderLimits())
        override = overrides.get(name)
        limits = ProviderLimits(
            max_in_flight=override.max_in_flight
            if override and override.max_in_flight is not None
            else default.max_in_flight,
            submits_per_second=override.submits_per_second
            if override and override.submits_per_second is not None
            else default.submits_per_second,
        )
        if limits.max_in_flight is not None or limits.submits_per_second is not None:
            resolved[name] = limits
    return resolved


__all__ = ["DEFAULT_LIMITS", "Admission", "ProviderLimits", "SubmitGate", "resolve_limits"]
