"""The local engine's size fitting for demo mode (card sizes larger than 720p)."""

from __future__ import annotations

import pytest

from reelay.providers.local import fit_to_engine


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((1365, 768), (1280, 720)),
        ((768, 1365), (720, 1280)),
        ((1024, 1024), (720, 720)),
        ((1183, 887), (960, 720)),
        ((1280, 720), (1280, 720)),
        ((640, 360), (640, 360)),
        ((1920, 1080), (1280, 720)),
    ],
)
def test_fit_to_engine(size: tuple[int, int], fitted: tuple[int, int]) -> None:
    assert fit_to_engine(*size) == fitted
