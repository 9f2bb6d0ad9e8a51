"""Loading model cards from TOML and looking them up by id or alias.

Packaged cards come from ``reelay/catalog/cards/*.toml``; an operator adds or replaces cards with
extra directories of the same format (a card in an extra directory replaces a packaged card with the
same id). Everything is validated here, once, so the rest of Reelay can trust a ``ModelCard``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import ValidationError

from reelay.catalog.card import ModelCard
from reelay.errors import ModelNotFound

LOCAL_PROVIDER = "local"


class Catalog:
    """The set of model cards this gateway serves, indexed by id and alias (case-sensitive)."""

    def __init__(self, cards: Iterable[ModelCard]) -> None:
        self._cards: dict[str, ModelCard] = {}
        for card in cards:
            if card.id in self._cards:
                raise ValueError(f"two model cards have the id {card.id!r}")
            self._cards[card.id] = card
        self._aliases = _alias_index(self._cards)

    def get(self, name: str) -> ModelCard:
        """The card for a model id or alias; ``ModelNotFound`` (param "model") lists what exists."""
        card = self._cards.get(name)
        if card is None and name in self._aliases:
            card = self._cards[self._aliases[name]]
        if card is None:
            available = ", ".join(sorted(self._cards)) or "none"
            raise ModelNotFound(
                f"Model {name!r} does not exist. Available models: {available}. "
                "GET /v1/models lists them with their capabilities.",
                param="model",
            )
        return card

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._cards or name in self._aliases)

    def cards(self) -> list[ModelCard]:
        """All cards, sorted by id (stable order for ``GET /v1/models``)."""
        return [self._cards[card_id] for card_id in sorted(self._cards)]

    @property
    def default_model(self) -> str:
        """The model used when nothing else is configured: the local engine, which always works."""
        local = [card.id for card in self.cards() if card.provider == LOCAL_PROVIDER]
        if "reelay-local" in local:
            return "reelay-local"
        if local:
            return local[0]
        if not self._cards:
            raise ValueError("the catalog is empty")
        return self.cards()[0].id


def load_catalog(extra_dirs: Sequence[Path] = ()) -> Catalog:
    """Packaged cards plus every ``*.toml`` in ``extra_dirs`` (later directories win on equal ids)."""
    cards = {card.id: card for card in _load_files(_packaged_files())}
    for directory in extra_dirs:
        if not directory.is_dir():
            raise ValueError(f"model card directory {directory} does not exist")
        files = sorted(directory.glob("*.toml"))
        for card in _load_files(files):
            cards[card.id] = card
    return Catalog(cards.values())


def load_card(path: Traversable | Path) -> ModelCard:
    """Read and validate one card file; any problem is a ``ValueError`` naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"model card {path.name}: not valid TOML: {exc}") from exc
    try:
        return ModelCard.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"model card {path.name}: {exc}") from exc


def _packaged_files() -> list[Traversable]:
    folder = resources.files("reelay.catalog") / "cards"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)


def _load_files(files: Iterable[Traversable | Path]) -> list[ModelCard]:
    """Load files that belong together; one directory may not define the same id twice."""
    seen: dict[str, str] = {}
    cards: list[ModelCard] = []
    for path in files:
        card = load_card(path)
        if card.id in seen:
            raise ValueError(f"model card {path.name}: id {card.id!r} is already defined in {seen[card.id]}")
        seen[card.id] = path.name
        cards.append(card)
    return cards


def _alias_index(cards: dict[str, ModelCard]) -> dict[str, str]:
    """alias -> card id; an alias may not shadow an id or name two cards."""
    index: dict[str, str] = {}
    for card in cards.values():
        for alias in card.aliases:
            if alias in cards and alias != card.id:
                raise ValueError(f"model card {card.id!r}: alias {alias!r} is another card's id")
            if alias in index and index[alias] != card.id:
                raise ValueError(f"alias {alias!r} is claimed by {index[alias]!r} and {card.id!r}")
            index[alias] = card.id
    return index
