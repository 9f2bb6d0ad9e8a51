"""Model name → the provider that serves it.

Today: the card's own provider if it is configured, or the local engine for every model in demo
mode. The seam is ``Router.route``; aliases, ``provider/model`` forcing, priority groups and
fallbacks extend it without touching callers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from reelay.catalog import Catalog, ModelCard
from reelay.errors import ProviderNotConfigured
from reelay.providers.registry import setup_hint

NOT_YET = "no adapter for it ships in this version of Reelay yet"


@dataclass(frozen=True)
class Route:
    card: ModelCard
    provider: str
    executed_model: str


class Router:
    def __init__(self, catalog: Catalog, configured: Collection[str], *, demo: bool = False) -> None:
        self.catalog = catalog
        self.configured = frozenset(configured)
        self.demo = demo

    def route(self, model: str) -> Route:
        """The provider for ``model``; raises ModelNotFound or ProviderNotConfigured (both 4xx)."""
        card = self.catalog.get(model)
        if card.provider in self.configured:
            return Route(card, card.provider, card.upstream_model)
        if self.demo and "local" in self.configured:
            return Route(card, "local", "reelay-local")
        how = setup_hint(card.provider) or NOT_YET
        raise ProviderNotConfigured(
            f"model {card.id!r} is served by the {card.provider!r} provider, which is not configured on "
            f"this server: {how} and restart, or run `reelay serve --demo` to try it with the local engine",
            param="model",
        )
