"""Circuit-breaker state in Redis, so every API and worker process sees the same open circuits.

``routing.breaker.BreakerState`` is synchronous (the breaker is consulted inline, between two
awaits); a Redis round trip on a nearby server takes well under a millisecond, which is why Redis
and not a SQL table backs it. One hash per provider: ``failures``, ``opened_at`` (wall-clock unix
time, comparable across machines) and ``trial``. Writes are last-writer-wins: two processes may
each let one half-open trial through, which is harmless. If Redis cannot be reached the breaker
fails open (circuits read closed) and says so in the log, rather than stopping all traffic.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from reelay.routing.breaker import CircuitSnapshot

log = logging.getLogger("reelay.breaker")


class RedisBreakerState:
    def __init__(self, client: redis.Redis, *, prefix: str = "reelay:circuit:") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> RedisBreakerState:
        return cls(redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True))

    def load(self, provider: str) -> CircuitSnapshot:
        try:
            fields: dict[str, str] = self.client.hgetall(self.prefix + provider)  # type: ignore[assignment]
        except redis.RedisError as error:
            log.warning("circuit state unreadable; treating %s as closed: %s", provider, error)
            return CircuitSnapshot()
        opened = fields.get("opened_at")
        return CircuitSnapshot(
            failures=int(fields.get("failures", 0)),
            opened_at=float(opened) if opened else None,
            trial_in_flight=fields.get("trial") == "1",
        )

    def save(self, provider: str, snapshot: CircuitSnapshot) -> None:
        mapping: dict[Any, str] = {  # keys typed loosely: redis-py's mapping type is invariant
            "failures": str(snapshot.failures),
            "opened_at": "" if snapshot.opened_at is None else repr(snapshot.opened_at),
            "trial": "1" if snapshot.trial_in_flight else "0",
        }
        try:
            self.client.hset(self.prefix + provider, mapping=mapping)
        except redis.RedisError as error:
            log.warning("circuit state not saved for %s: %s", provider, error)
