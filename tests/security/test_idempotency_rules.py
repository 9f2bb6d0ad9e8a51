"""The idempotency rules one by one, below the API: key syntax, what the fingerprint covers, the table.

tests/security/test_idempotency.py drives the same rules through HTTP; these pin each clause (the
mutation check in docs/testing.md found the ones the HTTP tests left loose).
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from reelay.errors import IdempotencyConflict, InvalidRequest
from reelay.jobs.idempotency import (
    HEADER,
    DuplicateKey,
    IdempotencyClaim,
    IdempotencyStore,
    fingerprint,
    validate_key,
)
from reelay.jobs.inputs import MediaSource
from reelay.jobs.migrate import upgrade_database
from reelay.jobs.service import CreateRequest
from reelay.jobs.store import make_engine

BASE = CreateRequest(prompt="a red fox", model="reelay-local", seconds=4, size="640x360")
CHANGES: dict[str, Any] = {
    "prompt": "a blue fox",
    "model": "wan-2.5",
    "seconds": 8,
    "seconds_field": "duration",
    "size": "1280x720",
    "aspect_ratio": "9:16",
    "resolution": "480p",
    "n": 2,
    "seed": 7,
    "reference_mode": "references",
    "references": [MediaSource("url", "https://example.com/a.png")],
    "video": MediaSource("video_id", "video_abc"),
    "extra": {"camera_motion": "dolly-in"},
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_every_field_is_in_the_fingerprint(field: str) -> None:
    changed = dataclasses.replace(BASE, **{field: CHANGES[field]})
    assert fingerprint("create", changed) != fingerprint("create", BASE)
    assert fingerprint("create", dataclasses.replace(BASE)) == fingerprint("create", BASE)


def test_operation_webhook_and_input_identity_are_in_the_fingerprint() -> None:
    assert fingerprint("edit", BASE) != fingerprint("create", BASE)
    assert fingerprint("create", BASE, "https://a.example/hook") != fingerprint("create", BASE)
    one, other = (dataclasses.replace(BASE, video=MediaSource("video_id", v)) for v in ("video_a", "video_b"))
    assert fingerprint("edit", one) != fingerprint("edit", other)
    url = dataclasses.replace(BASE, references=[MediaSource("url", "https://example.com/b.png")])
    assert fingerprint("create", url) != fingerprint(
        "create", dataclasses.replace(BASE, references=CHANGES["references"])
    )


def test_uploads_count_by_content_and_are_left_readable() -> None:
    def upload(data: bytes, name: str) -> CreateRequest:
        return dataclasses.replace(BASE, video=MediaSource("upload", name, io.BytesIO(data), "video/mp4"))

    same_a, same_b, other = upload(b"\x00" * 10, "a.mp4"), upload(b"\x00" * 10, "b.mp4"), upload(b"\x01" * 10, "a.mp4")
    assert fingerprint("edit", same_a) == fingerprint("edit", same_b) != fingerprint("edit", other)
    assert same_a.video is not None and same_a.video.stream is not None
    assert same_a.video.stream.read() == b"\x00" * 10  # hashed from where it was, then rewound


def test_a_non_ascii_prompt_has_a_stable_fingerprint() -> None:
    unicode = dataclasses.replace(BASE, prompt="un renard roux sous la neige, 雪の中の狐 🦊")
    assert fingerprint("create", unicode) == fingerprint("create", dataclasses.replace(unicode))
    assert fingerprint("create", unicode) != fingerprint("create", BASE)


@pytest.mark.parametrize("key", [None, "k", "k" * 256, " leading space", "tilde~", "order-1"])
def test_valid_keys(key: str | None) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "says"),
    [("", "1 to 256 characters (got 0)"), ("k" * 257, "1 to 256 characters (got 257)"),
     ("caf\u00e9", "printable ASCII"), ("tab\there", "printable ASCII"), ("del\x7f", "printable ASCII")],
)  # fmt: skip
def test_invalid_keys(key: str, says: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        validate_key(key)
    assert refused.value.param == HEADER and says in refused.value.message


@pytest.fixture
async def table(tmp_path: Path) -> AsyncIterator[IdempotencyStore]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    upgrade_database(url)
    store = IdempotencyStore(make_engine(url), ttl_seconds=60)
    yield store
    await store.engine.dispose()


async def test_record_lookup_conflict_and_duplicate(table: IdempotencyStore) -> None:
    claim = IdempotencyClaim("key_alice", "order-1", "f1")
    assert await table.lookup(claim) is None
    async with table.engine.begin() as connection:
        await connection.run_sync(table.record, claim, "video_1")
    assert await table.lookup(claim) == "video_1"
    assert await table.lookup(IdempotencyClaim("key_bob", "order-1", "f1")) is None  # scoped per API key
    with pytest.raises(IdempotencyConflict) as conflict:
        await table.lookup(dataclasses.replace(claim, fingerprint="f2"))
    assert conflict.value.param == HEADER
    assert "'order-1'" in conflict.value.message and "video_1" in conflict.value.message
    with pytest.raises(DuplicateKey):  # a live key is never overwritten, whatever the body
        async with table.engine.begin() as connection:
            await connection.run_sync(table.record, dataclasses.replace(claim, fingerprint="f2"), "video_2")
    assert await table.lookup(claim) == "video_1"
    async with table.engine.begin() as connection:  # another scope may use the same key
        await connection.run_sync(table.record, IdempotencyClaim("key_bob", "order-1", "f9"), "video_3")


async def test_expired_keys_are_reusable_and_purged(table: IdempotencyStore) -> None:
    table.ttl_seconds = 0.2
    claim = IdempotencyClaim("key_alice", "order-1", "f1")
    async with table.engine.begin() as connection:
        await connection.run_sync(table.record, claim, "video_1")
        await connection.run_sync(table.record, IdempotencyClaim("key_bob", "order-1", "f1"), "video_2")
    time.sleep(0.3)  # past the (shortened) lifetime: at least this long, never an upper bound
    assert await table.lookup(claim) is None
    table.ttl_seconds = 3600  # the new row must outlive the rest of the test on a slow machine
    async with table.engine.begin() as connection:
        await connection.run_sync(table.record, dataclasses.replace(claim, fingerprint="f2"), "video_3")
    assert await table.lookup(dataclasses.replace(claim, fingerprint="f2")) == "video_3"
    assert await table.purge_expired() == 1  # Bob's expired row; Alice's fresh one stays
    assert await table.lookup(dataclasses.replace(claim, fingerprint="f2")) == "video_3"
