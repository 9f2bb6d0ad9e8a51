"""Model name → an ordered list of provider targets to try.

- Aliases (``[aliases]`` in reelay.toml, and each card's own aliases) resolve first.
- ``provider/model`` forces one provider and turns fallback off.
- Otherwise the model's priority groups (reelay.toml ``[models."id"].routes``; by default one group
  of every configured instance of the card's provider type) are tried in order; inside a group,
  weights split traffic (a weighted shuffle). Providers whose circuit is open go to the back.
- ``--demo`` serves a model whose provider is not configured from the local engine.
- A provider that serves only some models (the diffusers engine serves the models declared for it)
  is skipped for the others, so an undeclared model is "not configured", not a failed job.

The worker walks the targets on submission failures; this module never speaks a wire format.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reelay.catalog import Catalog, ModelCard
from reelay.errors import ModelNotFound, ProviderNotConfigured
from reelay.providers.registry import setup_hint
from reelay.routing.breaker import CircuitBreaker
from reelay.routing.config import RouteTarget, RoutingConfig

NOT_YET = "no adapter for it ships in this version of Reelay yet"
LOCAL = "local"
LOCAL_MODEL = "reelay-local"


@dataclass(frozen=True)
class Target:
    provider: str  # a configured provider instance name
    model: str  # the model name that provider receives


@dataclass(frozen=True)
class Route:
    card: ModelCard
    targets: tuple[Target, ...]
    forced: bool = False

    @property
    def provider(self) -> str:
        return self.targets[0].provider

    @property
    def executed_model(self) -> str:
        return self.targets[0].model


class Router:
    def __init__(
        self,
        catalog: Catalog,
        provider_types: Mapping[str, str],
        *,
        config: RoutingConfig | None = None,
        demo: bool = False,
        breaker: CircuitBreaker | None = None,
        rng: random.Random | None = None,
        serves: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        """``provider_types`` maps each configured instance name to its adapter type; ``serves``
        limits an instance to the card ids it holds (instances not in it serve every model)."""
        self.catalog = catalog
        self.provider_types = dict(provider_types)
        self.config = config or RoutingConfig()
        self.demo = demo
        self.breaker = breaker or CircuitBreaker(
            failure_threshold=self.config.circuit_breaker.failure_threshold,
            cooldown_seconds=self.config.circuit_breaker.cooldown_seconds,
        )
        self.rng = rng or random.Random()
        self.serves = dict(serves or {})

    @property
    def configured(self) -> frozenset[str]:
        return frozenset(self.provider_types)

    def route(self, model: str) -> Route:
        """The targets for ``model``; raises ModelNotFound or ProviderNotConfigured (both 4xx)."""
        name = self.config.aliases.get(model, model)
        try:
            card = self.catalog.get(name)
        except ModelNotFound:
            forced = self._forced(name)
            if forced is None:
                raise
            return forced
        targets = self._ordered(self._groups(card), card)
        if not targets and self.demo and LOCAL in self.provider_types:
            targets = [Target(LOCAL, LOCAL_MODEL)]
        if not targets:
            raise self._not_configured(card)
        return Route(card, tuple(targets))

    def _forced(self, name: str) -> Route | None:
        """``provider/model``: exactly that provider, no fallback."""
        prefix, _, rest = name.partition("/")
        if not rest or prefix not in self.provider_types:
            return None
        card = self.catalog.get(rest)
        if not self._serves(prefix, card):
            raise self._not_configured(card)
        model = LOCAL_MODEL if prefix == LOCAL else self._upstream_model(card, None)
        return Route(card, (Target(prefix, model),), forced=True)

    def _groups(self, card: ModelCard) -> Sequence[Sequence[RouteTarget]]:
        configured = self.config.models.get(card.id)
        if configured is not None:
            return configured.routes
        same_type = [name for name, kind in self.provider_types.items() if kind == card.provider]
        return [[RouteTarget(provider=name) for name in sorted(same_type)]]

    def _ordered(self, groups: Sequence[Sequence[RouteTarget]], card: ModelCard) -> list[Target]:
        ordered: list[Target] = []
        for group in groups:
            available = [t for t in group if t.provider in self.provider_types and self._serves(t.provider, card)]
            for target in self._weighted_shuffle(available):
                model = LOCAL_MODEL if target.provider == LOCAL else self._upstream_model(card, target.model)
                candidate = Target(target.provider, model)
                if candidate not in ordered:
                    ordered.append(candidate)
        healthy = [t for t in ordered if self.breaker.status(t.provider) != "open"]
        return healthy + [t for t in ordered if t not in healthy]

    def _weighted_shuffle(self, targets: Sequence[RouteTarget]) -> list[RouteTarget]:
        remaining = list(targets)
        result: list[RouteTarget] = []
        while remaining:
            pick = self.rng.choices(remaining, weights=[t.weight for t in remaining])[0]
            remaining.remove(pick)
            result.append(pick)
        return result

    def _serves(self, provider: str, card: ModelCard) -> bool:
        held = self.serves.get(provider)
        return held is None or card.id in held

    @staticmethod
    def _upstream_model(card: ModelCard, override: str | None) -> str:
        return override or card.upstream_model

    def _not_configured(self, card: ModelCard) -> ProviderNotConfigured:
        how = setup_hint(card.provider) or NOT_YET
        return ProviderNotConfigured(
            f"model {card.id!r} is served by the {card.provider!r} provider, which is not configured on "
            f"this server: {how} and restart, or run `reelay serve --demo` to try it with the local engine",
            param="model",
        )
