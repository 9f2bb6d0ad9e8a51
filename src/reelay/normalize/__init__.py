"""Request normalization: a client's generation fields, checked against a model card, become one
provider request plus a report of what happened to each parameter. Pure functions, no I/O."""

from reelay.normalize.normalizer import choose_mode, normalize
from reelay.normalize.params import GenerationParams
from reelay.normalize.report import ReportBehaviour, ReportEntry
from reelay.normalize.request import NormalizedRequest

__all__ = [
    "GenerationParams",
    "NormalizedRequest",
    "ReportBehaviour",
    "ReportEntry",
    "choose_mode",
    "normalize",
]
