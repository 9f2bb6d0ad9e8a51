"""``reelay.heap``: glibc takes the arena cap, and a trim hands a burst's freed pages back."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")
def test_the_arena_cap_is_taken_and_a_trim_returns_freed_pages() -> None:
    statement = (
        "from reelay import heap\n"
        "def rss():\n"
        "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
        "capped = heap.limit_arenas(heap.SERVER_ARENAS)\n"
        "burst = [bytearray(3000) for _ in range(30000)]  # ~90 MB on malloc's heap\n"
        "kept = burst[::100]  # a few survivors scattered through it, as after a burst of requests\n"
        "del burst\n"
        "before = rss()\n"
        "trimmed = heap.trim()\n"
        "print(capped, trimmed, before - rss() > 20000)\n"  # more than 20 MB back
    )
    result = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]
