"""Which remote providers exist, which environment variables enable them, and how to build them.

A provider is enabled when its key variable is set (``XAI_API_KEY`` …); its base URL can be
overridden (``XAI_BASE_URL`` …), which is also how the tests point adapters at loopback fakes.
Every remote adapter class takes the same keyword arguments: ``api_key``, ``base_url``, ``client``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from reelay.providers.base import Provider


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    module: str
    class_name: str
    key_env: str
    base_url_env: str
    default_base_url: str


SPECS: tuple[ProviderSpec, ...] = (
    ProviderSpec("xai", "reelay.providers.xai", "XAIProvider", "XAI_API_KEY", "XAI_BASE_URL", "https://api.x.ai"),
    ProviderSpec(
        "gemini", "reelay.providers.veo", "VeoProvider", "GEMINI_API_KEY", "GEMINI_BASE_URL",
        "https://generativelanguage.googleapis.com",
    ),
    ProviderSpec("fal", "reelay.providers.fal", "FalProvider", "FAL_KEY", "FAL_BASE_URL", "https://queue.fal.run"),
    ProviderSpec(
        "replicate", "reelay.providers.replicate", "ReplicateProvider", "REPLICATE_API_TOKEN", "REPLICATE_BASE_URL",
        "https://api.replicate.com",
    ),
    ProviderSpec(
        "runway", "reelay.providers.runway", "RunwayProvider", "RUNWAYML_API_SECRET", "RUNWAY_BASE_URL",
        "https://api.dev.runwayml.com",
    ),
    ProviderSpec("luma", "reelay.providers.luma", "LumaProvider", "LUMAAI_API_KEY", "LUMA_BASE_URL",
                 "https://api.lumalabs.ai"),
    ProviderSpec(
        "openai_compatible", "reelay.providers.openai_compatible", "OpenAICompatibleProvider",
        "REELAY_OPENAI_COMPATIBLE_API_KEY", "REELAY_OPENAI_COMPATIBLE_BASE_URL", "",
    ),
)
SPECS_BY_NAME = {spec.name: spec for spec in SPECS}


def setup_hint(name: str) -> str | None:
    """What to set to enable provider ``name``, for error messages."""
    spec = SPECS_BY_NAME.get(name)
    if spec is None or not _importable(spec):
        return None
    extra = f" (and {spec.base_url_env})" if not spec.default_base_url else ""
    return f"set {spec.key_env}{extra}"


def _importable(spec: ProviderSpec) -> bool:
    try:
        importlib.import_module(spec.module)
    except ImportError:
        return False
    return True


def build_remote_providers(env: Mapping[str, str], client: httpx.AsyncClient) -> dict[str, Provider]:
    """Instances of every provider whose key is set in ``env`` and whose adapter ships."""
    providers: dict[str, Provider] = {}
    for spec in SPECS:
        key = env.get(spec.key_env)
        base_url = env.get(spec.base_url_env) or spec.default_base_url
        if not key or not base_url or not _importable(spec):
            continue
        cls = getattr(importlib.import_module(spec.module), spec.class_name)
        providers[spec.name] = cls(api_key=key, base_url=base_url.rstrip("/"), client=client)
    return providers
