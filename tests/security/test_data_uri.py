"""decode_data_uri: the inline alternative to a URL, with the same size limit."""

from __future__ import annotations

import base64

import pytest

from reelay.errors import InvalidRequest, PayloadTooLarge
from reelay.security.fetch import decode_data_uri

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def test_base64_png() -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert decode_data_uri(uri, max_bytes=1000) == (PNG, "image/png")


def test_base64_variants_are_accepted() -> None:
    encoded = base64.urlsafe_b64encode(PNG).decode().rstrip("=")
    wrapped = encoded[:10] + "\n" + encoded[10:]
    assert decode_data_uri(f"DATA:Image/PNG;name=a.png;base64,{wrapped}", max_bytes=1000) == (
        PNG,
        "image/png",
    )


def test_percent_encoded_text() -> None:
    assert decode_data_uri("data:text/plain;charset=utf-8,hello%20w%C3%B6rld", max_bytes=100) == (
        "hello wörld".encode(),
        "text/plain",
    )
    assert decode_data_uri("data:,plain", max_bytes=100) == (b"plain", "text/plain")


@pytest.mark.parametrize(
    "uri",
    [
        "image/png;base64,AAAA",  # no data: prefix
        "data:image/png;base64",  # missing comma
        "data:image/png;base64,@@@@",
        "data:image/png;base64,A",  # impossible length
        "data:image/png;base64,AA=A",
        "data:not a mime;base64,AAAA",
        "data:text/plain,100%",
        "data:text/plain,%zz",
    ],
)
def test_malformed(uri: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_data_uri(uri, max_bytes=1000, param="input_reference")
    assert caught.value.code == "invalid_request"
    assert caught.value.param == "input_reference"


def test_oversize_is_refused() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        decode_data_uri("data:image/png;base64," + base64.b64encode(b"x" * 2000).decode(), max_bytes=1000)
    assert "MB" in caught.value.message
    with pytest.raises(PayloadTooLarge):
        decode_data_uri("data:text/plain," + "x" * 1001, max_bytes=1000)
    # exactly at the limit is fine
    assert decode_data_uri("data:;base64," + base64.b64encode(b"x" * 1000).decode(), max_bytes=1000)[0] == b"x" * 1000


def test_huge_encoded_string_is_refused_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("decoded a payload whose encoded length was already over the limit")

    monkeypatch.setattr(base64, "b64decode", no_decoding)
    with pytest.raises(PayloadTooLarge):
        decode_data_uri("data:video/mp4;base64," + "A" * 4_000_000, max_bytes=1_000_000)
