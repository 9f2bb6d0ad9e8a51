"""Stable seeds: the same (prompt, seed) must give the same video on every machine and run.

Python's ``hash()`` is salted per process, so seeds are derived from SHA-256 instead.
"""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    """A 63-bit integer that depends only on ``parts`` (their ``str`` forms, in order)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1
