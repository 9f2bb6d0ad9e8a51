"""The job tests run on SQLite and on a throwaway PostgreSQL database."""

from tests.postgres import postgres_url

__all__ = ["postgres_url"]
