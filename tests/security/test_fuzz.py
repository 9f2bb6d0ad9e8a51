"""Schemathesis against Reelay's own /openapi.json: every route, with an admin key, positive and
negative examples. Required: zero 5xx, and every documented response matches its schema.

The server runs in this process (uvicorn on loopback in a thread) so the network guard of this
folder's conftest covers it, and URL resolution is stubbed to a private address: URLs the fuzzer
invents are refused by the SSRF rules instead of leaving the machine. No workers run, so created
jobs stay queued (the fuzzer tests the API, not the renderer).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from reelay.api.app import create_app
from reelay.config import Settings
from tests.conftest import free_port

EXAMPLES = {"POST": 25, "GET": 15, "DELETE": 10}


@dataclass
class InProcessServer:
    url: str
    token: str


async def _private(host: str, port: int) -> list[str]:
    return ["10.0.0.9"]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    patch = pytest.MonkeyPatch()
    patch.setattr("reelay.security.fetch.resolve_host", _private)
    app = create_app(
        Settings(
            data_dir=tmp_path_factory.mktemp("fuzz"),
            run_workers=False,
            local_render_processes=1,
            demo=True,
            max_upload_bytes=4 * 1024 * 1024,
        )
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the fuzz server did not start"
        time.sleep(0.05)
    created = httpx.post(f"{url}/v1/admin/keys", json={"admin": True, "name": "fuzzer"})
    assert created.status_code == 201, created.text
    try:
        yield InProcessServer(url, created.json()["key"])
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        patch.undo()


def test_fuzz_every_operation(fuzz_server: InProcessServer) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    auth = {"Authorization": f"Bearer {fuzz_server.token}"}
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "DELETE" and "/admin/keys/" in operation.path:
            continue  # would revoke the fuzzer's own key only by guessing its id; tested in test_api_keys
        for mode in schemathesis.GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES.get(operation.method.upper(), 10),
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=auth, checks=checks)

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, or only an unconstrained path)
                continue
            except Exception as error:  # collect all, report together
                summary = "\n".join(line for line in str(error).splitlines() if line.strip())
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {summary}"[:2500])
            tested += 1
    assert tested >= 20
    assert not failures, "\n\n".join(failures)
