"""docs/clients.md's browser ``EventSource`` example runs as written in Chromium on the server's
origin (only the base URL and the video id are filled in) and ends with the completed video."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.clients.playground_support import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.conftest import LiveServer

CLIENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"


@needs_chromium
def test_the_eventsource_example_follows_a_job_to_completed(server: LiveServer) -> None:
    from playwright.sync_api import sync_playwright

    blocks = re.findall(r"```js\n(.*?)```", CLIENTS_DOC.read_text(), re.DOTALL)
    snippet = next(block for block in blocks if "new EventSource(" in block)
    created = httpx.post(f"{server.url}/v1/videos", json={"prompt": "sse", "seconds": 2, "size": "320x180"}, timeout=30)
    video_id = created.json()["id"]
    code = snippet.replace("http://127.0.0.1:8000", server.url).replace('"video_…"', f'"{video_id}"')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.goto(server.url + "/healthz")  # a page of the same origin, as the docs say
        logs: list[str] = []
        page.on("console", lambda message: logs.append(message.text))
        video = page.evaluate(f"async () => {{ {code}\n return video; }}")
        browser.close()
    assert video["id"] == video_id and video["status"] == "completed"
    assert video["output"]["url"].startswith("http")
    assert logs[-1].startswith("http") and "completed 100%" in logs
