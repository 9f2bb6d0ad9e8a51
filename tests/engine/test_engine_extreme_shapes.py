"""Extreme shapes render within a memory budget: crop in source coordinates, then scale the crop.

The renders run in a child process under RLIMIT_AS (address space), so scaling the whole input
before cropping, as the engine did (a 1x10000 PNG asked for ~18 GB), fails with MemoryError here
instead of taking the machine.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import av
import pytest
from engine_media import write_video
from PIL import Image

from reelay.engine.coverfit import MAX_INTERMEDIATE_PIXELS, check_budget, cover_box
from reelay.errors import InvalidMedia

MEMORY_CAP_BYTES = 1536 * 1024 * 1024  # far above a normal render, far below the old 18 GB


@pytest.mark.parametrize(
    ("source", "output", "expected"),
    [
        ((1, 10_000), (768, 432), (0, 4999, 1, 1)),  # the audit's PNG: one pixel survives, not 5.9 Gpx
        ((1, 40_000_000), (1536, 864), (0, 19_999_999, 1, 1)),
        ((40_000_000, 1), (768, 432), (19_999_999, 0, 2, 1)),
        ((2, 1024), (1280, 720), (0, 511, 2, 1)),
        ((1920, 1080), (1280, 720), (0, 0, 1920, 1080)),  # same ratio: the whole frame
        ((300, 200), (160, 160), (50, 0, 200, 200)),
    ],
)
def test_cover_box_is_a_crop_of_the_source_with_the_output_ratio(
    source: tuple[int, int], output: tuple[int, int], expected: tuple[int, int, int, int]
) -> None:
    left, top, w, h = cover_box(*source, *output)
    assert (left, top, w, h) == expected
    assert left >= 0 and left + w <= source[0] and top >= 0 and top + h <= source[1]


def test_an_intermediate_over_the_budget_is_refused_before_allocation() -> None:
    check_budget(7680, 4320, "the output")  # 33 MP: allowed
    with pytest.raises(InvalidMedia, match="over 40 megapixels"):
        check_budget(MAX_INTERMEDIATE_PIXELS + 1, 1, "the output")


def _render_capped(tmp_path: Path, mode: str, **paths: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP_BYTES}, {MEMORY_CAP_BYTES}))
        from reelay.engine import RenderSpec, render
        spec = RenderSpec(mode={mode!r}, prompt="slow push in", width=640, height=360, seconds=1.0,
                          seed=1, audio=False,
                          image_path=Path(sys.argv[1]) if sys.argv[1] else None,
                          video_path=Path(sys.argv[2]) if sys.argv[2] else None)
        result = render(spec, Path(sys.argv[3]))
        print(result.info.width, result.info.height)
        """
    )
    args = [paths.get("image", ""), paths.get("video", ""), str(tmp_path / "out.mp4")]
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_a_one_pixel_wide_image_renders_under_the_memory_cap(tmp_path: Path) -> None:
    thin = tmp_path / "thin.png"
    Image.new("RGB", (1, 10_000), (200, 40, 40)).save(thin)
    done = _render_capped(tmp_path, "i2v", image=str(thin))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["640", "360"]


@pytest.mark.parametrize("mode", ["v2v", "extend"])
def test_a_two_pixel_wide_video_renders_under_the_memory_cap(tmp_path: Path, mode: str) -> None:
    thin = write_video(tmp_path / "thin.mp4", width=2, height=1024, seconds=0.5, fps=12, audio_rate=None)
    with av.open(str(thin)) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (2, 1024)
    done = _render_capped(tmp_path, mode, video=str(thin))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["640", "360"]
