"""The Server-Sent Events wire format (WHATWG HTML, "Server-sent events"), and nothing else."""

from __future__ import annotations

KEEPALIVE = b": keep-alive\n\n"  # a comment line: proxies see traffic, clients ignore it


def retry(milliseconds: int) -> bytes:
    """How long a disconnected ``EventSource`` waits before it reconnects."""
    return f"retry: {milliseconds}\n\n".encode()


def event(data: str, *, event_id: str | None = None, name: str | None = None) -> bytes:
    """One event. ``data`` may span lines: each becomes its own ``data:`` field, as the format asks."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if name is not None:
        lines.append(f"event: {name}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()
