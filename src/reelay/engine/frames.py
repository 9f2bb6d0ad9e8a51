"""Frames on their way to x264: RGB canvases to yuv420p through libswscale, made ahead on a thread.

The conversion and the drawing release the GIL in their C parts, and so does x264's encode call, so
a producer thread that draws and converts the next frames while the caller encodes the current one
keeps both cores busy (docs/benchmarks.md, "where a text-to-video render's time goes").
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

T = TypeVar("T")
AHEAD = 6  # frames made ahead of the encoder: enough to ride out a slow frame, 8 MB at 720p
_DONE = object()


def to_yuv420p(image: Image.Image, reformatter: VideoReformatter | None = None) -> av.VideoFrame:
    """One RGB image as a yuv420p frame (BT.601, limited range: what the encoder's own conversion gave).

    Pillow keeps RGB as 4 bytes a pixel, so its ``RGBX`` bytes are wrapped without a copy and
    swscale reads them directly; one swscale thread, since the encoder has the other cores.
    """
    rgbx = np.frombuffer(image.tobytes("raw", "RGBX"), np.uint8).reshape(image.height, image.width, 4)
    frame = av.VideoFrame.from_numpy_buffer(rgbx, format="rgba")  # the X byte is never read
    return (reformatter or VideoReformatter()).reformat(frame, format="yuv420p", threads=1)


class Canvas:
    """An RGBA Pillow image over a numpy buffer: Pillow draws each frame on it, swscale reads it
    without a copy (``tobytes`` alone cost as much as the conversion). Alpha stays 255."""

    def __init__(self, width: int, height: int) -> None:
        self.pixels = np.zeros((height, width, 4), np.uint8)
        self.image = Image.frombuffer("RGBA", (width, height), self.pixels, "raw", "RGBA", 0, 1)
        # Pillow marks an image over a foreign buffer read-only and would copy it on the first draw;
        # this buffer is ours and writable, and sharing it is the point.
        self.image.readonly = 0
        self._reformatter = VideoReformatter()

    def to_yuv420p(self) -> av.VideoFrame:
        """The canvas as it is now, as a new yuv420p frame (the canvas can be redrawn at once)."""
        frame = av.VideoFrame.from_numpy_buffer(self.pixels, format="rgba")
        return self._reformatter.reformat(frame, format="yuv420p", threads=1)


def ahead(items: Iterator[T], depth: int = AHEAD) -> Generator[T, None, None]:
    """Iterate ``items`` on a producer thread, up to ``depth`` items ahead of the caller.

    An exception in the producer is raised in the caller at that point of the sequence. Closing
    this generator (a cancelled render leaves its loop) stops the producer before returning.
    """
    made: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        made.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as error:  # handed to the caller
            failure.append(error)
        finally:
            while not stop.is_set():
                try:
                    made.put(_DONE, timeout=0.1)
                    break
                except queue.Full:
                    continue

    producer = threading.Thread(target=produce, name="reelay-frames", daemon=True)
    producer.start()
    try:
        while (item := made.get()) is not _DONE:
            yield item  # type: ignore[misc]  # everything but _DONE is a T
        if failure:
            raise failure[0]
    finally:
        stop.set()
        producer.join()
