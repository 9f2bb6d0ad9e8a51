"""Fixtures for the scale-out mode: PostgreSQL (throwaway), moto's S3 server and Redis, all on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import postgres_url
from tests.scale.cluster import moto_server, redis_unreachable_reason

__all__ = ["postgres_url"]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 emulator in server mode on 127.0.0.1 (an ephemeral port) for the whole run."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def redis_url() -> str:
    reason = redis_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    return "redis://127.0.0.1:6379/15"
