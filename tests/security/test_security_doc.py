"""The webhook verification sample in docs/security.md runs exactly as printed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelay.security.webhooks import new_secret, signed_headers

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
Verifier = Callable[..., bool]


def doc_verifier() -> Verifier:
    """``verify_webhook`` as defined by the first python block under "Verifying a webhook signature"."""
    text = DOC.read_text()
    section = text[text.index("### Verifying a webhook signature") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "no python block in the verification section"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
    verifier: Verifier = namespace["verify_webhook"]
    return verifier


def test_the_documented_verifier_accepts_reelay_signatures_and_nothing_else() -> None:
    verify = doc_verifier()
    secret = new_secret()
    body = b'{"type":"video.completed","data":{"id":"video_1"}}'
    headers = signed_headers(secret, "msg_1", body)
    assert verify(secret, headers, body) is True
    assert verify(secret, headers, body + b" ") is False
    assert verify(new_secret(), headers, body) is False
    assert verify(secret, {**headers, "webhook-id": "msg_2"}, body) is False
    old = signed_headers(secret, "msg_1", body, timestamp=int(time.time()) - 3600)
    assert verify(secret, old, body) is False
    rotated = {**headers, "webhook-signature": "v1,bm90LWl0 " + headers["webhook-signature"]}
    assert verify(secret, rotated, body) is True  # several signatures, space-separated, as the spec allows
