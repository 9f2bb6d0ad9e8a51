"""Routing: aliases, provider/model forcing, priority groups, weights, breakers, demo, hints."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from reelay.catalog import load_catalog
from reelay.errors import ModelNotFound, ProviderNotConfigured
from reelay.routing import CircuitBreaker, Router, RoutingConfig, Target, load_routing_config
from reelay.routing.breaker import CircuitSnapshot

CATALOG = load_catalog()


def config(**data: object) -> RoutingConfig:
    return RoutingConfig.model_validate(data)


def test_default_route_is_the_cards_provider() -> None:
    router = Router(CATALOG, {"local": "local", "xai": "xai"})
    route = router.route("grok-imagine-video")
    assert [(t.provider, t.model) for t in route.targets] == [("xai", "grok-imagine-video")]
    assert router.route("reelay-local").provider == "local"


def test_card_aliases_and_config_aliases() -> None:
    router = Router(CATALOG, {"local": "local"}, config=config(aliases={"quick": "reelay-local"}))
    assert router.route("quick").card.id == "reelay-local"
    assert router.route("local").card.id == "reelay-local"  # the card's own alias


def test_unconfigured_provider_says_what_to_do() -> None:
    with pytest.raises(ProviderNotConfigured) as caught:
        Router(CATALOG, {"local": "local"}).route("grok-imagine-video")
    assert caught.value.param == "model" and "--demo" in caught.value.message


def test_demo_serves_unconfigured_models_locally() -> None:
    route = Router(CATALOG, {"local": "local"}, demo=True).route("grok-imagine-video")
    assert route.card.id == "grok-imagine-video" and (route.provider, route.executed_model) == ("local", "reelay-local")


def test_provider_slash_model_forces_one_provider() -> None:
    router = Router(CATALOG, {"local": "local", "xai": "xai", "xai-eu": "xai"})
    route = router.route("xai-eu/grok-imagine-video")
    assert route.forced and [t.provider for t in route.targets] == ["xai-eu"]
    assert router.route("local/grok-imagine-video").targets[0].model == "reelay-local"
    with pytest.raises(ModelNotFound):
        router.route("nobody/grok-imagine-video")
    with pytest.raises(ModelNotFound):
        router.route("xai/no-such-model")


def test_every_instance_of_the_type_serves_by_default() -> None:
    router = Router(CATALOG, {"local": "local", "xai": "xai", "xai-eu": "xai"})
    assert {t.provider for t in router.route("grok-imagine-video").targets} == {"xai", "xai-eu"}


def test_priority_groups_in_order_with_weights_inside() -> None:
    routes = config(
        models={
            "grok-imagine-video": {
                "routes": [
                    [{"provider": "a", "weight": 3}, {"provider": "b", "weight": 1}],
                    [{"provider": "local"}],
                ]
            }
        }
    )
    router = Router(CATALOG, {"a": "xai", "b": "xai", "local": "local"}, config=routes, rng=random.Random(7))
    firsts = Counter(router.route("grok-imagine-video").targets[0].provider for _ in range(2000))
    assert set(firsts) == {"a", "b"}
    assert 0.70 < firsts["a"] / 2000 < 0.80  # 3:1
    assert router.route("grok-imagine-video").targets[-1].provider == "local"  # the fallback group last


def test_unconfigured_targets_are_dropped() -> None:
    routes = config(models={"grok-imagine-video": {"routes": [[{"provider": "xai"}], [{"provider": "local"}]]}})
    route = Router(CATALOG, {"local": "local"}, config=routes).route("grok-imagine-video")
    assert [t.provider for t in route.targets] == ["local"]


def test_open_circuits_go_to_the_back() -> None:
    clock = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cooldown_seconds=10, clock=lambda: clock[0])
    routes = config(models={"grok-imagine-video": {"routes": [[{"provider": "a"}], [{"provider": "b"}]]}})
    router = Router(CATALOG, {"a": "xai", "b": "xai"}, config=routes, breaker=breaker)
    breaker.record_failure("a")
    assert router.route("grok-imagine-video").provider == "a"  # one failure: still closed
    breaker.record_failure("a")
    assert [t.provider for t in router.route("grok-imagine-video").targets] == ["b", "a"]
    clock[0] = 11  # cooldown over: half-open, back in front
    assert router.route("grok-imagine-video").provider == "a"


def test_breaker_half_open_lets_one_trial_through() -> None:
    clock = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, cooldown_seconds=5, clock=lambda: clock[0])
    breaker.record_failure("p")
    assert breaker.status("p") == "open" and not breaker.allow("p")
    clock[0] = 6
    assert breaker.allow("p") and not breaker.allow("p")  # one trial at a time
    breaker.record_failure("p")
    assert breaker.status("p") == "open"  # the failed trial re-opens it
    clock[0] = 12
    assert breaker.allow("p")
    breaker.record_success("p")
    assert breaker.status("p") == "closed" and breaker.allow("p")


def test_config_file_round_trip_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "reelay.toml"
    good.write_text(
        '[providers.xai]\napi_key_env = "XAI_API_KEY"\n'
        '[providers.xai-eu]\ntype = "xai"\napi_key_env = "XAI_EU_KEY"\n'
        '[aliases]\ngrok = "grok-imagine-video"\n'
        '[models."grok-imagine-video"]\nroutes = [[{ provider = "xai", weight = 3 }, { provider = "xai-eu" }],'
        ' [{ provider = "local" }]]\n'
        "[circuit_breaker]\nfailure_threshold = 3\ncooldown_seconds = 60\n"
    )
    loaded = load_routing_config(good)
    assert loaded.providers["xai-eu"].type == "xai" and loaded.circuit_breaker.failure_threshold == 3
    bad = tmp_path / "bad.toml"
    bad.write_text('[providers.xai]\napi_key_env = "K"\n[models.m]\nroutes = [[{ provider = "nope" }]]\n')
    with pytest.raises(ValueError, match="nope"):
        load_routing_config(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[providers\n")
    with pytest.raises(ValueError, match=r"broken\.toml"):
        load_routing_config(broken)


def test_the_shipped_example_config_is_valid_against_the_catalog() -> None:
    example = Path(__file__).resolve().parents[2] / "reelay.example.toml"
    loaded = load_routing_config(example)
    for alias, target in loaded.aliases.items():
        assert CATALOG.get(target).id == target, alias
    for model in loaded.models:
        assert CATALOG.get(model).id == model
    router = Router(CATALOG, {"local": "local", "xai": "xai", "xai-backup": "xai"}, config=loaded)
    assert {t.provider for t in router.route("grok").targets} == {"xai", "xai-backup", "local"}
    assert router.route("grok").targets[-1].provider == "local"


def test_a_forced_route_names_the_card_and_its_upstream_model() -> None:
    router = Router(CATALOG, {"fal": "fal", "xai-eu": "xai"})
    route = router.route("xai-eu/grok-imagine-video")
    assert route.card.id == "grok-imagine-video" and route.targets == (Target("xai-eu", "grok-imagine-video"),)
    # Everything after the first slash is the model, so an upstream id with slashes can be forced too.
    kling = router.route("fal/fal-ai/kling-video/v2.1/master/text-to-video")
    assert kling.forced and kling.card.id == "kling-2.1-master"
    assert kling.targets == (Target("fal", "fal-ai/kling-video/v2.1/master/text-to-video"),)


def test_a_provider_that_serves_some_models_is_not_configured_for_the_others() -> None:
    router = Router(CATALOG, {"local": "local", "xai": "xai"}, serves={"xai": frozenset({"reelay-local"})})
    for name in ("grok-imagine-video", "xai/grok-imagine-video"):
        with pytest.raises(ProviderNotConfigured) as caught:
            router.route(name)
        assert caught.value.message == (
            "model 'grok-imagine-video' is served by the 'xai' provider, which is not configured on this server: "
            "set XAI_API_KEY and restart, or run `reelay serve --demo` to try it with the local engine"
        )
    assert router.route("local/reelay-local").provider == "local"  # an instance not in `serves` serves all


class CopyingState:
    """Breaker state that hands out copies, as a shared store (Redis) does: only ``save`` persists."""

    def __init__(self) -> None:
        self.saved: dict[str, CircuitSnapshot] = {}

    def load(self, provider: str) -> CircuitSnapshot:
        return replace(self.saved.get(provider, CircuitSnapshot()))

    def save(self, provider: str, snapshot: CircuitSnapshot) -> None:
        self.saved[provider] = replace(snapshot)


def test_each_provider_has_its_own_circuit_in_a_shared_state() -> None:
    clock = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cooldown_seconds=10, state=CopyingState(), clock=lambda: clock[0])
    breaker.record_failure("a")
    breaker.record_failure("b")
    assert breaker.status("a") == breaker.status("b") == "closed"  # one failure each, not two between them
    breaker.record_failure("a")
    assert breaker.status("a") == "open" and breaker.status("b") == "closed"
    clock[0] = 10
    assert breaker.allow("a") and not breaker.allow("a")  # the half-open trial is taken, and saved
    breaker.record_failure("a")
    assert breaker.status("a") == "open" and breaker.allow("b")


def test_the_breakers_own_defaults_are_the_documented_ones() -> None:
    """5 failures in a row open a circuit; 30 s later one trial goes through (docs/routing.md)."""
    clock = [0.0]
    breaker = CircuitBreaker(clock=lambda: clock[0])
    for _ in range(4):
        breaker.record_failure("p")
    assert breaker.status("p") == "closed"
    breaker.record_failure("p")
    clock[0] = 29.5
    assert breaker.status("p") == "open"
    clock[0] = 30.0
    assert breaker.status("p") == "half-open"


def test_reelay_toml_sets_the_breaker_and_per_target_models() -> None:
    routes = config(
        circuit_breaker={"failure_threshold": 3, "cooldown_seconds": 60},
        models={
            "grok-imagine-video": {"routes": [[{"provider": "a", "model": "grok-2-video"}], [{"provider": "local"}]]}
        },
    )
    router = Router(CATALOG, {"a": "xai", "local": "local"}, config=routes)
    assert router.route("grok-imagine-video").targets == (Target("a", "grok-2-video"), Target("local", "reelay-local"))
    assert (router.breaker.failure_threshold, router.breaker.cooldown_seconds) == (3, 60)
