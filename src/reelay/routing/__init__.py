"""Which provider serves a model."""

from reelay.routing.router import NOT_YET, PROVIDER_SETUP, Route, Router

__all__ = ["NOT_YET", "PROVIDER_SETUP", "Route", "Router"]
