"""JSON bodies with limits: nesting depth and integer size, checked so a body can never cause a 500.

``json.loads`` alone raises ``RecursionError`` on a body of 100,000 ``[`` and ``ValueError`` on an
integer literal over 4,300 digits, and a 400-digit integer later overflows ``float()``. Here integer
literals longer than ``MAX_INTEGER_DIGITS`` are never converted (kept as a marker), and after
parsing one iterative walk measures the depth. Both answer a 400 naming the top-level field.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reelay.errors import InvalidRequest

MAX_DEPTH = 32  # a create body is 3 levels deep; pass-through provider parameters get room to spare
MAX_INTEGER_DIGITS = 64


class _HugeInteger(str):
    """An integer literal too long to convert; only ever seen by ``_check``."""


def _parse_int(text: str) -> int | _HugeInteger:
    return _HugeInteger(text) if len(text.lstrip("-")) > MAX_INTEGER_DIGITS else int(text)


def loads_limited(body: bytes | str) -> Any:
    """``json.loads`` that raises ``InvalidRequest`` (naming the field) for too deep or too long.

    Invalid JSON still raises ``json.JSONDecodeError`` / ``UnicodeDecodeError`` for the caller.
    """
    try:
        data = json.loads(body, parse_int=_parse_int)
    except RecursionError:
        raise _refused(_deep_field(body), f"is nested more than {MAX_DEPTH} levels deep") from None
    _check(data)
    return data


_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}:]')


def _deep_field(body: bytes | str) -> str | None:
    """The top-level key under which ``body`` first nests past ``MAX_DEPTH`` (None: not in an object).

    Only for bodies json.loads could not even parse; strings are skipped whole by the regex engine.
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    depth, key, previous, top_is_object = 0, None, b"", raw.lstrip()[:1] == b"{"
    for match in _TOKEN.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                return key if top_is_object else None
        elif token in (b"]", b"}"):
            depth -= 1
        elif token == b":" and depth == 1 and previous.startswith(b'"'):
            key = previous[1:-1].decode("utf-8", "replace")
        previous = token
    return None


def _check(data: Any) -> None:
    """One iterative walk: no recursion, so any depth json.loads accepted is measured safely."""
    top = data if isinstance(data, dict) else {None: data}
    for field, value in top.items():
        stack: list[tuple[Any, int]] = [(value, 1 if isinstance(data, dict) else 0)]
        while stack:
            item, depth = stack.pop()
            if isinstance(item, _HugeInteger):
                raise _refused(field, f"has an integer of {len(item)} digits; at most {MAX_INTEGER_DIGITS}")
            if isinstance(item, dict | list):
                if depth >= MAX_DEPTH:
                    raise _refused(field, f"is nested more than {MAX_DEPTH} levels deep")
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, depth + 1) for child in children)


def _refused(field: str | None, why: str) -> InvalidRequest:
    if field is None:
        return InvalidRequest(f"the JSON body {why}")
    name = field if len(field) <= 64 else field[:61] + "..."
    return InvalidRequest(f"{name} {why}", param=name)
