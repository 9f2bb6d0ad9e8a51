"""Fixtures for the billing tests: the xAI loopback fake (shared with the provider tests) and PostgreSQL."""

from tests.postgres import postgres_url
from tests.providers.conftest import provider_media, xai_fake, xai_server

__all__ = ["postgres_url", "provider_media", "xai_fake", "xai_server"]
