"""``reelay.toml``: providers, credentials by env var name, aliases, priority groups, fallbacks.

Example (docs/routing.md has the full reference):

    [providers.xai]                      # a provider instance; its type defaults to its name
    api_key_env = "XAI_API_KEY"

    [providers.xai-eu]                   # a second account of the same type
    type = "xai"
    api_key_env = "XAI_EU_KEY"
    base_url = "https://eu.api.x.ai"

    [aliases]
    grok = "grok-imagine-video"

    [models."grok-imagine-video"]        # ordered priority groups; weights split traffic in a group
    routes = [
      [{ provider = "xai", weight = 3 }, { provider = "xai-eu", weight = 1 }],
      [{ provider = "local" }],          # the fallback group
    ]

    [circuit_breaker]
    failure_threshold = 5
    cooldown_seconds = 30

    [diffusers]                          # Reelay's own GPU engine (docs/gpu.md); needs reelay[diffusers]
    device = "cuda"
    dtype = "bfloat16"

    [diffusers.models."wan2.2-ti2v-5b"]  # a card with provider = "diffusers", and where its weights are
    source = "/models/Wan2.2-TI2V-5B-Diffusers"   # a local folder, or a hub name
    cpu_offload = true

Without a file, every provider whose key variable is set is enabled under its own name and each
model is routed to its card's provider only.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DIFFUSERS = "diffusers"
Dtype = Literal["auto", "float32", "float16", "bfloat16"]
ArgumentValue = float | int | str | bool


class ProviderInstance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str | None = Field(default=None, description="adapter type (xai, gemini, fal, …); default: the name")
    api_key_env: str | None = Field(default=None, description="env var holding the key (never the key itself)")
    base_url: str | None = None
    base_url_env: str | None = None
    max_in_flight: int | None = Field(
        default=None, ge=1, description="jobs waiting on this provider at once; more stay queued"
    )
    submits_per_second: float | None = Field(default=None, gt=0, description="new submissions per second")


class RouteTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str
    weight: float = Field(default=1.0, gt=0)
    model: str | None = Field(default=None, description="the upstream model name, if it differs from the card's")


class ModelRoutes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    routes: list[list[RouteTarget]] = Field(min_length=1)


class BreakerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    failure_threshold: int = Field(default=5, ge=1)
    cooldown_seconds: float = Field(default=30.0, gt=0)


class DiffusersModel(BaseModel):
    """One model the diffusers engine serves; unset options fall back to ``[diffusers]``."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = Field(default=None, description="local folder or hub name; default: the card's upstream_model")
    dtype: Dtype | None = None
    cpu_offload: bool | None = None
    vae_tiling: bool | None = None
    steps: int | None = Field(default=None, ge=1, le=10_000, description="denoising steps (default: the card's)")
    guidance_scale: float | None = Field(default=None, ge=0)
    arguments: dict[str, ArgumentValue] = Field(
        default_factory=dict, description="extra pipeline call arguments, e.g. max_sequence_length"
    )


class DiffusersConfig(BaseModel):
    """``[diffusers]``: Reelay's own engine for open models on this machine's GPU (docs/gpu.md)."""

    model_config = ConfigDict(extra="forbid")
    device: str = Field(default="auto", description="cuda, cuda:1, cpu; auto: cuda when available")
    dtype: Dtype = Field(default="auto", description="auto: bfloat16 on CUDA, float32 on the CPU")
    cpu_offload: bool = Field(default=False, description="model CPU offload: less VRAM, slower steps")
    vae_tiling: bool = Field(default=False, description="decode in tiles: less VRAM at 720p")
    max_loaded: int = Field(default=1, ge=1, description="pipelines kept in memory; the least recent is dropped")
    preload: bool = Field(default=False, description="load the first model when the engine starts, not on a job")
    threads: int | None = Field(default=None, ge=1, description="torch CPU threads in the engine process")
    offline: bool = Field(default=False, description="never download (also HF_HUB_OFFLINE=1)")
    models: dict[str, DiffusersModel] = Field(default_factory=dict)


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    providers: dict[str, ProviderInstance] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    models: dict[str, ModelRoutes] = Field(default_factory=dict)
    circuit_breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    diffusers: DiffusersConfig = Field(default_factory=DiffusersConfig)

    @model_validator(mode="after")
    def _routes_name_known_providers(self) -> RoutingConfig:
        declared = set(self.providers) | {"local"} | ({DIFFUSERS} if self.diffusers.models else set())
        for model, entry in self.models.items():
            for group in entry.routes:
                for target in group:
                    if self.providers and target.provider not in declared:
                        raise ValueError(
                            f"models.{model!r} routes to provider {target.provider!r}, which is not declared "
                            f"under [providers] (declared: {', '.join(sorted(declared))})"
                        )
        return self


def load_routing_config(path: Path | None) -> RoutingConfig:
    """The parsed file, or an empty config; a bad file raises ValueError naming the file and field."""
    if path is None:
        return RoutingConfig()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read routing config {path}: {error}") from error
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as error:
        raise ValueError(f"invalid routing config {path}:\n{error}") from error
