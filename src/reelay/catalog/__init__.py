"""The model catalog: one TOML card per model, validated into ``ModelCard`` and served by ``Catalog``."""

from reelay.catalog.card import (
    BillingRules,
    CustomSize,
    DurationRule,
    ExtensionRules,
    InputRules,
    Mode,
    ModelCard,
    ParamRule,
)
from reelay.catalog.registry import Catalog, load_card, load_catalog

__all__ = [
    "BillingRules",
    "Catalog",
    "CustomSize",
    "DurationRule",
    "ExtensionRules",
    "InputRules",
    "Mode",
    "ModelCard",
    "ParamRule",
    "load_card",
    "load_catalog",
]
