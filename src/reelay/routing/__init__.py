"""Which provider serves a model."""

from reelay.routing.router import NOT_YET, Route, Router

__all__ = ["NOT_YET", "Route", "Router"]
