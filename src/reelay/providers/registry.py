"""Which remote providers exist, which environment variables enable them, and how to build them.

A provider is enabled when its key variable is set (``XAI_API_KEY`` …); its base URL can be
overridden (``XAI_BASE_URL`` …), which is also how the tests point adapters at loopback fakes.
Every remote adapter class takes the same keyword arguments: ``api_key``, ``base_url``, ``client``;
adapters whose provider fetches inputs by URL also take ``links`` (``providers.hosting.InputLinks``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from reelay.providers.base import Provider
from reelay.providers.hosting import InputLinks

# Provider types whose adapter uploads large inputs to the provider's own file API (Replicate files,
# Runway uploads), so they never need a Reelay link.
UPLOADS_OWN_INPUTS: frozenset[str] = frozenset({"replicate", "runway"})


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    module: str
    class_name: str
    key_env: str
    base_url_env: str
    default_base_url: str
    takes_links: bool = False  # the adapter sends some inputs as URLs (see providers.hosting)


SPECS: tuple[ProviderSpec, ...] = (
    ProviderSpec("xai", "reelay.providers.xai", "XAIProvider", "XAI_API_KEY", "XAI_BASE_URL", "https://api.x.ai"),
    ProviderSpec(
        "gemini",
        "reelay.providers.veo",
        "VeoProvider",
        "GEMINI_API_KEY",
        "GEMINI_BASE_URL",
        "https://generativelanguage.googleapis.com",
    ),
    ProviderSpec("fal", "reelay.providers.fal", "FalProvider", "FAL_KEY", "FAL_BASE_URL", "https://queue.fal.run"),
    ProviderSpec(
        "replicate",
        "reelay.providers.replicate",
        "ReplicateProvider",
        "REPLICATE_API_TOKEN",
        "REPLICATE_BASE_URL",
        "https://api.replicate.com",
    ),
    ProviderSpec(
        "runway",
        "reelay.providers.runway",
        "RunwayProvider",
        "RUNWAYML_API_SECRET",
        "RUNWAY_BASE_URL",
        "https://api.dev.runwayml.com",
    ),
    ProviderSpec(
        "luma",
        "reelay.providers.luma",
        "LumaProvider",
        "LUMAAI_API_KEY",
        "LUMA_BASE_URL",
        "https://api.lumalabs.ai",
        takes_links=True,
    ),
    ProviderSpec(
        "openai_compatible",
        "reelay.providers.openai_compatible",
        "OpenAICompatibleProvider",
        "REELAY_OPENAI_COMPATIBLE_API_KEY",
        "REELAY_OPENAI_COMPATIBLE_BASE_URL",
        "",
    ),
)
SPECS_BY_NAME = {spec.name: spec for spec in SPECS}


DIFFUSERS_HINT = (
    'install reelay[diffusers] and declare the model under [diffusers.models."<id>"] in reelay.toml '
    "(REELAY_CONFIG_FILE; docs/gpu.md)"
)


def setup_hint(name: str) -> str | None:
    """What to set to enable provider ``name``, for error messages."""
    if name == "diffusers":
        return DIFFUSERS_HINT
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


@dataclass(frozen=True)
class InstanceSettings:
    """One configured provider instance (from reelay.toml): its type and where its key lives."""

    type: str
    api_key_env: str | None = None
    base_url: str | None = None
    base_url_env: str | None = None


def build_remote_providers(
    env: Mapping[str, str],
    client: httpx.AsyncClient,
    instances: Mapping[str, InstanceSettings] | None = None,
    links: InputLinks | None = None,
) -> tuple[dict[str, Provider], dict[str, str]]:
    """Provider instances by name, and each name's adapter type.

    Every adapter whose key variable is set in ``env`` is enabled under its own type name; each
    configured instance (which may reuse a type under another name, e.g. a second account) is added
    when its key variable is set. Instances whose key is missing are skipped: routes to them fall
    through to the next target.
    """
    wanted: dict[str, InstanceSettings] = {spec.name: InstanceSettings(type=spec.name) for spec in SPECS}
    wanted.update(instances or {})
    providers: dict[str, Provider] = {}
    types: dict[str, str] = {}
    for name, instance in wanted.items():
        spec = SPECS_BY_NAME.get(instance.type)
        if spec is None:
            raise ValueError(f"provider {name!r} has unknown type {instance.type!r}; known: {sorted(SPECS_BY_NAME)}")
        key = env.get(instance.api_key_env or spec.key_env)
        base_url = instance.base_url or env.get(instance.base_url_env or spec.base_url_env) or spec.default_base_url
        if not key or not base_url or not _importable(spec):
            continue
        cls = getattr(importlib.import_module(spec.module), spec.class_name)
        extra = {"links": links} if spec.takes_links else {}
        providers[name] = cls(api_key=key, base_url=base_url.rstrip("/"), client=client, **extra)
        types[name] = spec.name
    return providers, types
