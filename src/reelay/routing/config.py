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

Without a file, every provider whose key variable is set is enabled under its own name and each
model is routed to its card's provider only.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


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


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    providers: dict[str, ProviderInstance] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    models: dict[str, ModelRoutes] = Field(default_factory=dict)
    circuit_breaker: BreakerConfig = Field(default_factory=BreakerConfig)

    @model_validator(mode="after")
    def _routes_name_known_providers(self) -> RoutingConfig:
        declared = set(self.providers) | {"local"}
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
