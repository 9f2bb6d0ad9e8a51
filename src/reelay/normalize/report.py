"""The normalization report: one entry per parameter the client sent, saying what became of it.

Behaviours follow the hosted gateways' badges: ``passthrough`` (sent as is), ``renamed`` (same value,
the provider's field name), ``converted`` (value changed into what the model offers), ``emulated``
(Reelay supplies it, e.g. ``n`` by parallel runs) and ``ignored`` (sent but not used, with the
reason, e.g. ``aspect_ratio`` when ``size`` wins). Values the model chose on its own are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from reelay.catalog import ModelCard

ReportBehaviour = Literal["passthrough", "renamed", "converted", "emulated", "ignored"]


@dataclass(frozen=True)
class ReportEntry:
    """What happened to one parameter: the client's value and the value the provider receives."""

    param: str
    behaviour: ReportBehaviour
    requested: Any
    value: Any
    note: str = ""
    upstream: str | None = None  # the provider's field name, where the card names one

    def to_json(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "behaviour": self.behaviour,
            "requested": self.requested,
            "value": self.value,
            "note": self.note,
            "upstream": self.upstream,
        }


def entry_for(
    card: ModelCard,
    rule_name: str,
    requested: Any,
    value: Any,
    *,
    changed: bool = False,
    note: str = "",
    param: str | None = None,
) -> ReportEntry:
    """An entry whose behaviour comes from the card's rule, or ``converted`` when the value changed.

    ``param`` is the name the client used when it differs from the card's rule name (``duration``
    for ``seconds``). The note explains a change; without one the card's note is used.
    """
    rule = card.params.get(rule_name)
    behaviour: ReportBehaviour = "passthrough" if rule is None else rule.behaviour
    if changed:
        behaviour = "converted"
    return ReportEntry(
        param=param or rule_name,
        behaviour=behaviour,
        requested=requested,
        value=value,
        note=note or (rule.note if rule else ""),
        upstream=rule.upstream if rule else None,
    )


def ignored(param: str, requested: Any, note: str) -> ReportEntry:
    """An entry for a parameter that was sent and deliberately not used."""
    return ReportEntry(param=param, behaviour="ignored", requested=requested, value=None, note=note)
