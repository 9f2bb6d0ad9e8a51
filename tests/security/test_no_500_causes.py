"""The four causes of 500 the 2026-12-01 audit found now answer 4xx, and the server stays healthy.

A DNS label over 63 characters (the resolver's IDNA codec raised UnicodeError), JSON nested
100,000 deep (RecursionError), and integers of 401 and 5,000 digits (OverflowError, ValueError).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelay.errors import InvalidRequest
from reelay.normalize.values import parse_seconds
from reelay.security.fetch import FetchPolicy, check_url
from tests.security.keyed import bearer, create_key, reelay
from tests.security.test_hostile_input import assert_4xx

JSON = {"content-type": "application/json"}
LONG_LABEL = "https://" + "a" * 64 + ".com/x.png"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with reelay(tmp_path_factory.mktemp("no500")) as http:
        http.headers.update(bearer(create_key(http, admin=True)))
        yield http


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/videos", {"prompt": "x", "webhook_url": LONG_LABEL}, "webhook_url"),
        ("/v1/videos", {"prompt": "x", "input_reference": {"image_url": LONG_LABEL}}, "input_reference"),
        ("/v1/videos", {"prompt": "x", "input_reference": [LONG_LABEL]}, "input_reference"),
        ("/v1/videos", {"prompt": "x", "input_video": LONG_LABEL}, "input_video"),
        ("/v1/videos/edits", {"prompt": "x", "video": LONG_LABEL}, None),
        ("/v1/videos/extensions", {"prompt": "x", "video": LONG_LABEL}, None),
    ],
)
def test_a_dns_label_over_63_characters_is_invalid_url(
    client: TestClient, path: str, body: dict[str, Any], param: str | None, dry_run: bool
) -> None:
    response = client.post(path + ("?dryRun=true" if dry_run else ""), json=body)
    error = assert_4xx(response, 400)
    assert error["code"] == "invalid_url", error
    if param is not None:
        assert error["param"] == param


def test_a_long_label_in_a_multipart_reference_is_invalid_url(client: TestClient) -> None:
    response = client.post("/v1/videos", data={"prompt": "x"}, files={"input_reference": (None, LONG_LABEL)})
    assert assert_4xx(response, 400)["code"] == "invalid_url"


def test_a_resolver_unicode_error_is_invalid_url_not_a_crash() -> None:
    async def idna_refuses(host: str, port: int) -> list[str]:
        "".encode("idna")
        raise UnicodeError("encoding with 'idna' codec failed (label empty or too long)")

    with pytest.raises(Exception) as caught:
        asyncio.run(check_url("https://ok.example/x", policy=FetchPolicy(), resolver=idna_refuses))
    assert getattr(caught.value, "code", None) == "invalid_url"


@pytest.mark.parametrize("host", ["1.2.3.4.5", "1.2.3.4.5.", "example.123", "0x1.2.3.4.0x5"])
def test_numeric_looking_invalid_hosts_never_reach_the_resolver(host: str) -> None:
    async def must_not_resolve(name: str, port: int) -> list[str]:
        pytest.fail(f"{name} reached the resolver")

    with pytest.raises(Exception) as caught:
        asyncio.run(check_url(f"https://{host}/x.png", policy=FetchPolicy(), resolver=must_not_resolve))
    assert getattr(caught.value, "code", None) == "url_not_allowed"


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"[" * 100_000 + b"]" * 100_000, None),
        (b'{"prompt":"x","extra":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}", "extra"),
        (b'{"prompt":"x","extra":' + b"[" * 40 + b"]" * 40 + b"}", "extra"),  # under the recursion limit
    ],
)
def test_deep_json_is_400_naming_the_field(client: TestClient, body: bytes, param: str | None, dry_run: bool) -> None:
    response = client.post("/v1/videos" + ("?dryRun=true" if dry_run else ""), content=body, headers=JSON)
    assert assert_4xx(response, 400)["param"] == param


@pytest.mark.parametrize("digits", [400, 5000])
@pytest.mark.parametrize("field", ["seconds", "duration", "n", "seed", "something_else"])
def test_huge_integer_literals_are_400_naming_the_field(client: TestClient, digits: int, field: str) -> None:
    body = b'{"prompt":"x","' + field.encode() + b'":1' + b"0" * digits + b"}"
    response = client.post("/v1/videos?dryRun=true", content=body, headers=JSON)
    assert assert_4xx(response, 400)["param"] == field


@pytest.mark.parametrize("field", ["seconds", "n", "seed"])
def test_huge_integer_strings_in_a_form_are_400(client: TestClient, field: str) -> None:
    response = client.post("/v1/videos?dryRun=true", data={"prompt": "x", field: "1" + "0" * 5000})
    assert assert_4xx(response, 400)["param"] == field


def test_seconds_within_the_digit_limit_is_clamped_and_beyond_float_range_is_400(client: TestClient) -> None:
    response = client.post("/v1/videos?dryRun=true", json={"prompt": "x", "seconds": 10**60})
    assert response.status_code == 200, response.text  # 61 digits: parsed, clamped to the model's maximum
    with pytest.raises(InvalidRequest, match="an integer of about 401 digits"):
        parse_seconds(10**400, param="seconds")  # float() would raise OverflowError
    assert client.get("/healthz").status_code == 200
