"""One settings object for the whole process.

Read from ``REELAY_*`` environment variables (and a ``.env`` file if present). Only the composition
roots (``reelay.api.app.create_app`` and the CLI) read it; everything below receives plain values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _list_from_env(value: object) -> object:
    """A list setting from the environment: a JSON list (``["a","b"]``) or the comma form (``a,b``)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


# A list-typed setting that accepts both forms people write in an environment file.
EnvList = Annotated[list[str], NoDecode, BeforeValidator(_list_from_env)]
EnvPaths = Annotated[list[Path], NoDecode, BeforeValidator(_list_from_env)]
EnvFloats = Annotated[list[float], NoDecode, BeforeValidator(_list_from_env)]


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
    workers: int = Field(
        default=2, ge=1, le=1024, description="CPU-bound jobs (local renders, collections) run at once by a process"
    )
    submit_concurrency: int = Field(
        default=16, ge=1, le=1024, description="submissions to providers in flight at once per process"
    )
    poll_concurrency: int = Field(
        default=256, ge=1, le=10_000, description="polls of waiting upstream jobs in flight at once per process"
    )
    local_render_processes: int = Field(default=2, ge=1, le=64, description="processes for the local engine")
    render_memory_mb: int = Field(
        default=4096, ge=0, description="address-space limit per render or media process (RLIMIT_AS); 0 = no limit"
    )
    process_idle_seconds: float = Field(
        default=60.0,
        ge=0,
        description="a render or media process this long without a task exits (the next task starts one); 0 = keep",
    )
    retention_hours: float = Field(default=24 * 7, gt=0, description="outputs expire this long after completion")
    max_upload_bytes: int = 220 * 1024 * 1024
    max_image_bytes: int = 20 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    fetch_allow_http: bool = False
    fetch_allow_hosts: EnvList = Field(default_factory=list, description="dev allowlist for URL fetching")
    fetch_timeout: float = 30.0
    job_lease_seconds: float = 30.0
    provider_deadline_seconds: float = Field(
        default=3600.0, gt=0, description="a provider silent this long after submission ends the job upstream_timeout"
    )
    retry_backoff_seconds: float = Field(default=1.0, gt=0, description="first retry delay; doubles, jittered ±50%")
    demo: bool = Field(default=False, description="serve every catalog model from the local engine")
    catalog_dirs: EnvPaths = Field(default_factory=list, description="extra model-card folders")
    config_file: Path | None = Field(
        default=None, description="reelay.toml: providers, aliases, priority groups, fallbacks (REELAY_CONFIG_FILE)"
    )

    # -- scale-out mode (docs/deploy.md): PostgreSQL, procrastinate, S3-compatible storage, Redis ----
    queue: Literal["inprocess", "procrastinate"] = Field(
        default="inprocess", description="inprocess: asyncio queue in this process; procrastinate: PostgreSQL queue"
    )
    run_workers: bool | None = Field(
        default=None, description="run workers inside `reelay serve`; default yes for inprocess, no for procrastinate"
    )
    worker_models: EnvList = Field(default_factory=list, description="`reelay worker`: only these models")
    worker_providers: EnvList = Field(default_factory=list, description="`reelay worker`: only these providers")
    sweep_seconds: float = Field(default=15.0, gt=0, description="how often workers look for lapsed leases")
    cancel_check_seconds: float = Field(
        default=0.5, gt=0, le=30, description="how often a running job checks for cancellation (one query each)"
    )
    database_pool_size: int = Field(default=10, ge=1, le=200, description="PostgreSQL connections kept per process")
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = Field(default=None, description="MinIO, R2 …; unset for AWS S3")
    s3_public_endpoint_url: str | None = Field(default=None, description="endpoint clients download from")
    s3_region: str | None = None
    s3_access_key_id: str | None = Field(default=None, description="unset: boto3's usual credential chain")
    s3_secret_access_key: str | None = None
    s3_prefix: str = Field(default="", description="key prefix inside the bucket, e.g. reelay/")
    redis_url: str | None = Field(default=None, description="shared circuit-breaker state, e.g. redis://host:6379/0")

    # -- safe to expose (docs/security.md): key limits, idempotency, webhooks ------------------------
    default_rpm: int | None = Field(default=None, ge=1, description="requests/minute for keys without their own")
    default_max_concurrent: int | None = Field(default=None, ge=1, description="unfinished videos per key")
    default_budget_usd: float | None = Field(default=None, ge=0, description="USD of cost estimates per key")
    idempotency_hours: float = Field(default=24.0, gt=0, description="how long an Idempotency-Key is remembered")
    webhook_allow_http: bool = Field(default=False, description="development only: allow http:// webhook URLs")
    webhook_allow_hosts: EnvList = Field(default_factory=list, description="development allowlist for webhooks")
    webhook_retry_delays: EnvFloats = Field(default_factory=lambda: [5.0, 15.0, 45.0], min_length=0)
    metrics_access: Literal["admin", "open", "off"] = Field(
        default="admin", description="GET /metrics: admin key once keys exist, open (no key), or off (404)"
    )
    webhook_timeout: float = Field(default=30.0, gt=0, description="seconds per delivery attempt")

    def resolved_database_url(self) -> str:
        if self.database_url:
            # A bare postgresql:// URL means psycopg 3, the one PostgreSQL driver Reelay ships with.
            scheme, sep, rest = self.database_url.partition("://")
            return f"postgresql+psycopg://{rest}" if sep and scheme in ("postgres", "postgresql") else self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'reelay.db'}"

    def workers_in_this_process(self) -> bool:
        """Whether `reelay serve` runs jobs itself (always, in the embedded default)."""
        return self.run_workers if self.run_workers is not None else self.queue == "inprocess"
