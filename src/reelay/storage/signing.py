"""Signed, expiring download links, so ``output.url`` opens in a browser with no Authorization header.

A link is ``/v1/files/<key>?expires=<unix>&signature=<hex>``, where the signature is an HMAC-SHA256
over ``key`` and ``expires`` with a secret that never leaves the server. Signing with the job's own
expiry keeps a link stable across polls.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from urllib.parse import quote


class UrlSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def signature(self, key: str, expires: int) -> str:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def path(self, key: str, expires: int) -> str:
        """The path-and-query of a signed link (the caller adds scheme and host)."""
        return f"/v1/files/{quote(key)}?expires={expires}&signature={self.signature(key, expires)}"

    def verify(self, key: str, expires: int, signature: str, *, now: float | None = None) -> bool:
        if expires < (time.time() if now is None else now):
            return False
        if not signature.isascii():  # a real one is hex; compare_digest raises on non-ASCII str
            return False
        try:
            expected = self.signature(key, expires)
        except UnicodeEncodeError:  # a key with lone surrogates was never signed
            return False
        return hmac.compare_digest(expected, signature)


def load_or_create_secret(path: Path) -> bytes:
    """The signing secret, created once per data directory with owner-only permissions."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(secret.hex())
    tmp.chmod(0o600)
    tmp.replace(path)
    return secret
