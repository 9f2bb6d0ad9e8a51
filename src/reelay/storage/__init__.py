"""Where finished media lives, and how it is handed out."""

from reelay.storage.base import Storage
from reelay.storage.local import LocalStorage
from reelay.storage.signing import UrlSigner, load_or_create_secret

__all__ = ["LocalStorage", "Storage", "UrlSigner", "load_or_create_secret"]
