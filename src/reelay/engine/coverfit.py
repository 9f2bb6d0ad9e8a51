"""Cover-fit arithmetic in source coordinates: crop first, then scale only the crop.

Scaling a whole image or frame until it covers the output and cropping afterwards allocates
``source area x scale²`` pixels: for a 1x10000 image and a 768x432 output that is 768 x 7,680,000
(about 18 GB of RGB). Cropping the centred region of the output's aspect ratio first makes every
intermediate at most the source (already bounded at input: ``probe.MAX_IMAGE_PIXELS``) plus the
output itself, whatever the shape. ``check_budget`` states that bound before anything is allocated.
"""

from __future__ import annotations

from reelay.errors import InvalidMedia

# The largest intermediate a render may allocate: the 40 MP input cap (probe.MAX_IMAGE_PIXELS).
MAX_INTERMEDIATE_PIXELS = 40_000_000


def cover_box(src_w: int, src_h: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The centred (left, top, w, h) of the source that has the output's aspect ratio.

    At least 1x1 pixel, never larger than the source: scaling this box to width x height is the
    cover-fit, and costs only the output's pixels.
    """
    if min(src_w, src_h, width, height) < 1:
        raise InvalidMedia(f"cannot fit a {src_w}x{src_h} picture to {width}x{height}")
    if src_w * height > width * src_h:  # the source is wider than the output: keep its full height
        w, h = max(1, min(src_w, round(src_h * width / height))), src_h
    else:
        w, h = src_w, max(1, min(src_h, round(src_w * height / width)))
    return (src_w - w) // 2, (src_h - h) // 2, w, h


def check_budget(width: int, height: int, what: str) -> None:
    """Refuse an intermediate of width x height before allocating it."""
    if width * height > MAX_INTERMEDIATE_PIXELS:
        raise InvalidMedia(
            f"{what} would need a {width}x{height} intermediate picture (over 40 megapixels); send a smaller input"
        )


def cover_filters(width: int, height: int) -> list[tuple[str, str]]:
    """libavfilter steps that cover-fit any frame to width x height: ``cover_box`` as a crop
    expression on the frame's own size (after rotation and zoom), then a scale of the crop alone.

    The crop keeps at least 2x2 pixels, so even a 2x1024 video comes out as a plain (blurred)
    width x height picture instead of an upscale to 1280 x 655,360 first.
    """
    check_budget(width, height, "the output")
    wider = f"gt(iw*{height},{width}*ih)"
    crop_w = f"if({wider},min(iw,max(2,trunc(ih*{width}/{height}))),iw)"
    crop_h = f"if({wider},ih,min(ih,max(2,trunc(iw*{height}/{width}))))"
    return [
        ("crop", f"w={crop_w}:h={crop_h}"),
        ("scale", f"{width}:{height}"),
    ]
