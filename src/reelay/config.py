"""One settings object for the whole process.

Read from ``REELAY_*`` environment variables (and a ``.env`` file if present). Only the composition
roots (``reelay.api.app.create_app`` and the CLI) read it; everything below receives plain values.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The per-user data folder, e.g. ``~/.local/share/reelay``."""
    return Path(platformdirs.user_data_dir("reelay", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REELAY_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="database, outputs and secrets")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite+aiosqlite:///<data_dir>/reelay.db"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="base URL used in output.url; default: the URL the request came in on"
    )
    workers: int = Field(default=2, ge=1, le=64, description="jobs run at once by in-process workers")
    local_render_processes: int = Field(default=2, ge=1, le=64, description="processes for the local engine")
    retention_hours: float = Field(default=24 * 7, gt=0, description="outputs expire this long after completion")
    max_upload_bytes: int = 220 * 1024 * 1024
    max_image_bytes: int = 20 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    fetch_allow_http: bool = False
    fetch_allow_hosts: list[str] = Field(default_factory=list, description="dev allowlist for URL fetching")
    fetch_timeout: float = 30.0
    job_lease_seconds: float = 30.0
    provider_deadline_seconds: float = Field(
        default=3600.0, gt=0, description="a provider silent this long after submission ends the job upstream_timeout"
    )
    retry_backoff_seconds: float = Field(default=1.0, gt=0, description="first retry delay; doubles, jittered ±50%")
    demo: bool = Field(default=False, description="serve every catalog model from the local engine")
    catalog_dirs: list[Path] = Field(default_factory=list, description="extra model-card folders")
    config_file: Path | None = Field(
        default=None, description="reelay.toml: providers, aliases, priority groups, fallbacks (REELAY_CONFIG_FILE)"
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'reelay.db'}"
