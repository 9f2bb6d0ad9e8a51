"""Short-lived URLs to Reelay's own copy of an input, for providers that fetch inputs by URL.

Luma takes input images only as URLs; Runway and Replicate cap inline data URIs. When a provider has
no upload API of its own, the adapter hands it a link to the stored input: a presigned URL when the
storage makes them (S3), else a signed ``/v1/files`` link under ``REELAY_PUBLIC_URL``. Without
either, there is no address the provider could reach, and ``available`` is False (creates that need
a link are then refused with a 400 before a job exists).
"""

from __future__ import annotations

import time
from pathlib import Path

from reelay.storage.base import Storage
from reelay.storage.signing import UrlSigner

LINK_SECONDS = 3600  # long enough for a queued upstream job to fetch its input, short enough to leak little


class InputLinks:
    def __init__(self, storage: Storage, signer: UrlSigner, public_url: str | None, *, ttl: int = LINK_SECONDS) -> None:
        self._storage = storage
        self._signer = signer
        self._public_url = public_url.rstrip("/") if public_url else None
        self._ttl = ttl

    @property
    def available(self) -> bool:
        """True when a link can be made: a public URL is configured, or the storage presigns."""
        return self._public_url is not None or self._storage.download_url("inputs/probe", self._expires()) is not None

    def url_for(self, path: Path) -> str | None:
        """A URL the provider can fetch ``path`` (a stored input) from, or None if none can be made."""
        key = self._storage.key_for_path(path)
        if key is None:
            return None
        expires = self._expires()
        direct = self._storage.download_url(key, expires)
        if direct is not None:
            return direct
        if self._public_url is None:
            return None
        return self._public_url + self._signer.path(key, expires)

    def _expires(self) -> int:
        return int(time.time()) + self._ttl
