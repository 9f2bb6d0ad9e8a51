"""Which provider serves a model: aliases, forcing, priority groups, weights, fallbacks, breakers."""

from reelay.routing.breaker import CircuitBreaker
from reelay.routing.config import RoutingConfig, load_routing_config
from reelay.routing.router import NOT_YET, Route, Router, Target

__all__ = ["NOT_YET", "CircuitBreaker", "Route", "Router", "RoutingConfig", "Target", "load_routing_config"]
