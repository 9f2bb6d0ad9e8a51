"""``InputLinks``: the signed links a provider fetches a stored input from (Luma; Runway over 5 MB)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from reelay.providers.hosting import InputLinks
from reelay.storage import UrlSigner
from reelay.storage.local import LocalStorage


async def test_a_stored_input_gets_a_signed_link_under_the_public_url(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    source = tmp_path / "frame.jpg"
    source.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    await storage.put_file("inputs/video_1/reference0.jpg", source)
    path = await storage.local_path("inputs/video_1/reference0.jpg")
    assert path is not None
    signer = UrlSigner(b"k" * 32)
    links = InputLinks(storage, signer, "https://reelay.example/")
    assert links.available
    url = links.url_for(path)
    assert url is not None and url.startswith("https://reelay.example/v1/files/inputs/video_1/reference0.jpg?")
    query = parse_qs(urlsplit(url).query)
    expires = int(query["expires"][0])
    assert time.time() < expires <= time.time() + 3600 + 1
    assert signer.verify("inputs/video_1/reference0.jpg", expires, query["signature"][0])


@pytest.mark.parametrize("public_url", [None, "https://reelay.example"])
def test_no_link_without_a_public_url_or_for_a_file_outside_storage(tmp_path: Path, public_url: str | None) -> None:
    links = InputLinks(LocalStorage(tmp_path / "files"), UrlSigner(b"k" * 32), public_url)
    assert links.available is (public_url is not None)
    assert links.url_for(tmp_path / "elsewhere.png") is None
