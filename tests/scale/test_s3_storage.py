"""S3Storage against moto's S3 server on loopback: the ``Storage`` promises, presigned links, cache."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from reelay.api.present import Links
from reelay.storage.s3 import MAX_LINK_SECONDS, S3Settings, S3Storage
from reelay.storage.signing import UrlSigner
from tests.scale.cluster import S3_KEY, s3_client


@pytest.fixture
def storage(s3_endpoint: str, tmp_path: Path) -> S3Storage:
    bucket = f"reelay-{uuid.uuid4().hex[:8]}"
    s3_client(s3_endpoint).create_bucket(Bucket=bucket)
    settings = S3Settings(
        bucket=bucket, endpoint_url=s3_endpoint, access_key_id=S3_KEY, secret_access_key=S3_KEY, prefix="r/"
    )
    return S3Storage(settings, tmp_path / "cache")


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_put_then_read_back_through_the_cache(storage: S3Storage, tmp_path: Path) -> None:
    size = await storage.put_file("videos/v1/0.mp4", _file(tmp_path, "a.mp4", b"mp4 bytes"))
    assert size == 9 and await storage.exists("videos/v1/0.mp4")
    head = s3_client(str(storage.settings.endpoint_url)).head_object(Bucket=storage.bucket, Key="r/videos/v1/0.mp4")
    assert head["ContentType"] == "video/mp4"  # served with the right type from presigned links
    path = await storage.local_path("videos/v1/0.mp4")
    assert path is not None and path.read_bytes() == b"mp4 bytes" and path.is_relative_to(storage.cache_dir)
    assert await storage.local_path("videos/v1/0.mp4") == path  # immutable objects: the cache stays valid


async def test_missing_objects_read_as_absent(storage: S3Storage) -> None:
    assert not await storage.exists("videos/nope/0.mp4")
    assert await storage.local_path("videos/nope/0.mp4") is None
    assert not list(storage.cache_dir.rglob("*.part"))


async def test_delete_prefix_removes_objects_and_cached_copies(storage: S3Storage, tmp_path: Path) -> None:
    for name in ("0.mp4", "0.thumbnail.jpg", "0.spritesheet.jpg"):
        await storage.put_file(f"videos/v2/{name}", _file(tmp_path, name, b"x"))
    await storage.put_file("videos/v22/0.mp4", _file(tmp_path, "other.mp4", b"y"))
    assert await storage.local_path("videos/v2/0.mp4") is not None
    assert await storage.delete_prefix("videos/v2/") == 3
    assert not await storage.exists("videos/v2/0.mp4") and await storage.exists("videos/v22/0.mp4")
    assert not (storage.cache_dir / "videos" / "v2").exists()


async def test_presigned_link_downloads_the_object(storage: S3Storage, tmp_path: Path) -> None:
    await storage.put_file("videos/v3/0.mp4", _file(tmp_path, "b.mp4", b"the video"))
    url = storage.download_url("videos/v3/0.mp4", int(time.time()) + 600)
    assert url is not None and url.startswith(str(storage.settings.endpoint_url))
    assert "X-Amz-Expires=" in url and httpx.get(url).content == b"the video"


def test_links_are_capped_at_the_sigv4_limit_and_prefer_the_bucket(storage: S3Storage) -> None:
    url = storage.download_url("videos/v4/0.mp4", int(time.time()) + 30 * 24 * 3600)
    assert url is not None and f"X-Amz-Expires={MAX_LINK_SECONDS}" in url
    links = Links(UrlSigner(b"k" * 32), None, storage)
    link = links.url("http://api", "videos/v4/0.mp4", int(time.time()) + 60)
    assert link.startswith(str(storage.settings.endpoint_url))


def test_keys_that_escape_are_refused(storage: S3Storage) -> None:
    with pytest.raises(ValueError):
        storage.download_url("../secret", 0)
