"""S3-compatible object storage (AWS S3, MinIO, Cloudflare R2) for the scale-out mode.

Why it looks like this:
- boto3 is synchronous; every network call runs in a thread (``asyncio.to_thread``) so the event
  loop never waits on the bucket. Its clients are thread-safe, so one client serves all threads.
- An S3 PUT is atomic (an object is never visible half-written), which is what ``Storage.put_file``
  promises; objects are immutable once written.
- ``local_path`` downloads to a per-process cache (temporary name, then rename), because workers
  hand files to providers and the media pool by path. Immutability makes the cache always valid;
  ``delete_prefix`` clears it with the objects.
- ``download_url`` presigns a GET locally (no request): that is ``output.url`` in this mode, so
  clients download straight from the bucket, not through the API. SigV4 caps a link at 7 days.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

MAX_LINK_SECONDS = 7 * 24 * 3600  # the SigV4 limit for a presigned URL
_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".tiff": "image/tiff",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}
_MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class S3Settings:
    """Where the bucket is and how to sign in; unset credentials use boto3's usual chain."""

    bucket: str
    endpoint_url: str | None = None
    public_endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    prefix: str = ""


def make_client(settings: S3Settings, endpoint_url: str | None) -> Any:
    """A boto3 S3 client; custom endpoints (MinIO, R2, emulators) get path-style addressing."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=32,
        connect_timeout=10,
        read_timeout=60,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=settings.region or "us-east-1",
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        config=config,
    )


def _checked(key: str) -> str:
    """Refuse keys that could escape the cache folder (absolute paths, ``..``, backslashes)."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class S3Storage:
    def __init__(self, settings: S3Settings, cache_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.cache_dir = cache_dir
        self._client = make_client(settings, settings.endpoint_url)
        public = settings.public_endpoint_url
        self._links = make_client(settings, public) if public and public != settings.endpoint_url else self._client
        self._clock = clock

    def _key(self, key: str) -> str:
        return self.prefix + _checked(key)

    def _cached(self, key: str) -> Path:
        return self.cache_dir.joinpath(*PurePosixPath(_checked(key)).parts)

    async def put_file(self, key: str, source: Path) -> int:
        extra = {"ContentType": _CONTENT_TYPES.get(source.suffix.lower(), "application/octet-stream")}
        await asyncio.to_thread(self._client.upload_file, str(source), self.bucket, self._key(key), ExtraArgs=extra)
        return source.stat().st_size

    def key_for_path(self, path: Path) -> str | None:
        try:
            return path.resolve().relative_to(self.cache_dir.resolve()).as_posix()
        except ValueError:
            return None

    async def local_path(self, key: str) -> Path | None:
        target = self._cached(key)
        if target.is_file():
            return target
        return await asyncio.to_thread(self._download, key, target)

    def _download(self, key: str, target: Path) -> Path | None:
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            self._client.download_file(self.bucket, self._key(key), str(part))
        except ClientError as error:
            part.unlink(missing_ok=True)
            if str(error.response.get("Error", {}).get("Code")) in _MISSING:
                return None
            raise
        os.replace(part, target)
        return target

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._exists, key)

    def _exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in _MISSING:
                return False
            raise
        return True

    async def delete_prefix(self, prefix: str) -> int:
        return await asyncio.to_thread(self._delete_prefix, prefix)

    def _delete_prefix(self, prefix: str) -> int:
        removed = 0
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix))
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys[start : start + 1000]})
            removed += len(keys)
        cached = self._cached(prefix.rstrip("/"))
        if cached.is_dir():
            shutil.rmtree(cached, ignore_errors=True)
        else:
            cached.unlink(missing_ok=True)
        return removed

    def download_url(self, key: str, expires: int) -> str | None:
        seconds = int(min(MAX_LINK_SECONDS, max(1, expires - self._clock())))
        url: str = self._links.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=seconds
        )
        return url
