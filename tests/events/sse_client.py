"""A minimal Server-Sent Events reader for tests, written from the WHATWG format, not from our server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Event:
    id: str | None
    name: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def read_events(lines: Iterator[str]) -> Iterator[Event]:
    """Events from a text/event-stream body, one per blank-line-terminated block; comments skipped."""
    event_id: str | None = None
    name = "message"
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield Event(event_id, name, "\n".join(data))
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            event_id = value
        elif field == "event":
            name = value
        elif field == "data":
            data.append(value)


def stream_events(
    client: httpx.Client, path: str, headers: dict[str, str] | None = None, timeout: float = 90.0
) -> tuple[httpx.Response, list[Event]]:
    """Every event of one stream, until the server ends it."""
    with client.stream("GET", path, headers=headers, timeout=timeout) as response:
        if response.status_code != 200:
            response.read()
            return response, []
        return response, list(read_events(response.iter_lines()))
