"""The frame pipeline of a generated render: the canvas's conversion and the producer thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from reelay.engine.frames import Canvas, ahead, to_yuv420p


def test_the_canvas_converts_to_the_same_yuv420p_as_the_encoders_own_rgb24_conversion() -> None:
    canvas = Canvas(64, 48)
    rng = np.random.default_rng(1)
    canvas.image.paste(Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).convert("RGBA"))
    ImageDraw.Draw(canvas.image).ellipse((10, 10, 30, 30), fill=(250, 20, 40))  # drawn in place
    rgb = canvas.pixels[..., :3].copy()
    assert (rgb[20, 20] == (250, 20, 40)).all()
    expected = av.VideoFrame.from_ndarray(rgb, "rgb24").reformat(format="yuv420p").to_ndarray()
    assert np.array_equal(canvas.to_yuv420p().to_ndarray(), expected)
    assert np.array_equal(to_yuv420p(Image.fromarray(rgb)).to_ndarray(), expected)


def test_ahead_yields_every_item_in_order_and_raises_the_producers_error_in_place() -> None:
    assert list(ahead(iter(range(50)), depth=3)) == list(range(50))

    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("frame 3 could not be drawn")

    seen: list[int] = []
    with pytest.raises(ValueError, match="frame 3"):
        for item in ahead(failing()):
            seen.append(item)
    assert seen == [1, 2]


def test_closing_ahead_stops_the_producer() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    frames = ahead(endless(), depth=2)
    assert next(frames) == 0
    frames.close()  # a cancelled render leaving its loop
    assert not any(thread.name == "reelay-frames" for thread in threading.enumerate())
    assert len(produced) <= 4  # the producer stopped once the queue was full
