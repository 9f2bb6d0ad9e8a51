"""Loading cards (packaged and operator-supplied), validation errors, and id/alias lookup."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from reelay.catalog import Catalog, ModelCard, load_card, load_catalog
from reelay.errors import ModelNotFound

CARDS_DIR = Path(__file__).resolve().parents[2] / "src" / "reelay" / "catalog" / "cards"


def _card_data(name: str = "reelay-local") -> dict[str, Any]:
    return tomllib.loads((CARDS_DIR / f"{name}.toml").read_text(encoding="utf-8"))


def _dump(data: dict[str, Any]) -> str:
    """A tiny TOML writer for the shapes a card uses (tables of scalars, lists, nested tables)."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(value, list):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        return repr(value)

    def walk(prefix: str, table: dict[str, Any]) -> None:
        body = [f'"{k}" = {scalar(v)}' for k, v in table.items() if not isinstance(v, dict)]
        tables.append((prefix, dict.fromkeys(body)))
        for key, value in table.items():
            if isinstance(value, dict):
                walk(f'{prefix}."{key}"' if prefix else f'"{key}"', value)

    walk("", data)
    for prefix, body in tables:
        if prefix:
            lines.append(f"[{prefix}]")
        lines.extend(body)
    return "\n".join(lines) + "\n"


def _write(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "card_id"),
    [
        ("reelay-local", "reelay-local"),
        ("local", "reelay-local"),
        ("reelay-local-procedural", "reelay-local"),
        ("grok-imagine-video", "grok-imagine-video"),
        ("grok-video", "grok-imagine-video"),
        ("grok-imagine-video-1.5", "grok-imagine-video-1.5"),
        ("grok-imagine-video-1.5-preview", "grok-imagine-video-1.5"),
    ],
)
def test_get_resolves_ids_and_aliases(name: str, card_id: str) -> None:
    catalog = load_catalog()
    assert catalog.get(name).id == card_id
    assert name in catalog


@pytest.mark.parametrize("name", ["Reelay-Local", "LOCAL", "sora-2", "", "xai/grok-imagine-video"])
def test_unknown_model_lists_available_ids(name: str) -> None:
    with pytest.raises(ModelNotFound) as info:
        load_catalog().get(name)
    assert info.value.param == "model"
    assert info.value.status == 404
    for card_id in ("reelay-local", "grok-imagine-video", "grok-imagine-video-1.5"):
        assert card_id in info.value.message


def test_round_trip_of_test_writer(tmp_path: Path) -> None:
    path = _write(tmp_path, "copy.toml", _card_data())
    assert load_card(path) == load_card(CARDS_DIR / "reelay-local.toml")


def test_extra_dir_adds_and_overrides(tmp_path: Path) -> None:
    override = _card_data()
    override["price_per_second"] = 0.01
    _write(tmp_path, "local.toml", override)
    added = _card_data("grok-imagine-video")
    added.update(id="my-grok", aliases=["mine"])
    _write(tmp_path, "mine.toml", added)

    catalog = load_catalog([tmp_path])
    assert catalog.get("local").price_per_second == 0.01
    assert catalog.get("mine").id == "my-grok"
    assert len(catalog.cards()) == len(load_catalog().cards()) + 1  # my-grok added, local replaced


def test_missing_extra_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_catalog([tmp_path / "nope"])


def test_duplicate_id_within_one_dir_is_an_error(tmp_path: Path) -> None:
    data = _card_data()
    _write(tmp_path, "a.toml", data)
    _write(tmp_path, "b.toml", data)
    with pytest.raises(ValueError, match=r"b\.toml.*already defined in a\.toml"):
        load_catalog([tmp_path])


def test_alias_clash_is_an_error(tmp_path: Path) -> None:
    data = _card_data("grok-imagine-video")
    data.update(id="other", aliases=["local"])
    _write(tmp_path, "other.toml", data)
    with pytest.raises(ValueError, match="alias 'local'"):
        load_catalog([tmp_path])


def test_alias_may_not_be_another_id() -> None:
    local = ModelCard.model_validate(_card_data())
    grok = ModelCard.model_validate({**_card_data("grok-imagine-video"), "aliases": ["reelay-local"]})
    with pytest.raises(ValueError, match="another card's id"):
        Catalog([local, grok])


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("id = [", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.toml: not valid TOML"):
        load_catalog([tmp_path])


def _without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    table = data
    for key in path[:-1]:
        table = table[key]
    del table[path[-1]]
    return data


def _tier_size(value: str) -> dict[str, Any]:
    data = _card_data()
    data["tiers"]["480p"]["16:9"] = value
    return data


def _set(**changes: Any) -> dict[str, Any]:
    data = _card_data()
    data.update(changes)
    return data


def _tier_ratio() -> dict[str, Any]:
    data = _card_data()
    data["tiers"]["480p"]["5:4"] = "600x480"
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_set(default_tier="1080p"), "default_tier '1080p'"),
        (_set(default_aspect_ratio="21:9"), "default_aspect_ratio '21:9'"),
        (_tier_ratio(), "ratios not in aspect_ratios"),
        (_without(_card_data(), "tiers", "720p", "2:3"), "no size for ratios"),
        (_tier_size("854by480"), "is not 'WIDTHxHEIGHT'"),
        (_tier_size("480x854"), "is not 16:9"),
        (_set(aspect_ratios=["16-9"], default_aspect_ratio="16-9"), "is not 'W:H'"),
        (_without(_card_data(), "params", "size"), "no rule for"),
        (_without(_card_data(), "params", "input_video"), "no rule for"),
        (_set(modes=["t2v", "x2v"]), "modes"),
        (_set(kind="magic"), "kind"),
        (_set(native_n=5, max_n=4), "max_n must be at least native_n"),
        (_set(price_per_second_by_tier={"4K": 1.0}), "is not a tier"),
        (_set(durations={"min": 2, "max": 10, "step": 1, "default": 12}), "min <= default <= max"),
        (_set(custom_size={"max_long_side": 100, "max_short_side": 200, "min_side": 64}), "min_side"),
        (_set(unknown_field=1), "unknown_field"),
        (_set(max_reference_images=3), "reference_to_video = true"),
        (_set(max_reference_images=3, reference_to_video=True), "params.reference_images rule"),
    ],
)
def test_bad_cards_fail_with_the_file_name(tmp_path: Path, data: dict[str, Any], message: str) -> None:
    path = _write(tmp_path, "bad-card.toml", data)
    with pytest.raises(ValueError, match=r"bad-card\.toml") as info:
        load_card(path)
    assert message in str(info.value)


def test_cards_are_frozen() -> None:
    card = load_catalog().get("local")
    with pytest.raises(ValueError):
        card.id = "changed"  # type: ignore[misc]


def test_default_model_prefers_a_local_card() -> None:
    grok = ModelCard.model_validate(_card_data("grok-imagine-video"))
    assert Catalog([grok]).default_model == "grok-imagine-video"
    renamed = ModelCard.model_validate({**_card_data(), "id": "my-local", "aliases": []})
    assert Catalog([grok, renamed]).default_model == "my-local"
