"""The web playground end to end in headless Chromium (Debian's ``chromium``, driven by Playwright):
key field → model list → form with an image upload → progress → a playing <video>, the normalization
report, the cost estimate and the recent list. The screenshot is kept in ``test-artifacts/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.conftest import KeyedServer

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (apt-get install -y chromium; .ci/run does this)"
)


@pytest.fixture
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            yield context
        finally:
            browser.close()


def test_generate_from_the_form_to_a_playing_video(page: object, keyed_server: KeyedServer, media_dir: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(keyed_server.url + "/")
    expect(page.locator("#notice")).to_contain_text("API key")  # the server has keys: the page asks for one
    page.fill("#api-key", keyed_server.key)
    page.click("#save-key")
    page.wait_for_selector("body[data-ready='true']")
    assert page.evaluate("localStorage.getItem('reelay.apiKey')") == keyed_server.key
    page.select_option("#model", "reelay-local")
    page.fill("#prompt", "a red fox in the snow")
    page.fill("#size", "640x480")
    page.select_option("#seconds", "3")
    page.set_input_files("#media", str(media_dir / "reference.png"))
    expect(page.locator("#media-name")).to_contain_text("image-to-video")
    page.click("#submit")
    page.wait_for_selector("#job[data-status='completed']", timeout=120_000)
    page.wait_for_function(
        "() => { const v = document.getElementById('player');"
        " return v.readyState >= 2 && (v.currentTime > 0.2 || v.ended); }",
        timeout=60_000,
    )
    expect(page.locator("#report tbody tr").first).to_be_visible()
    expect(page.locator("#report")).to_contain_text("input_reference")
    expect(page.locator("#cost")).to_contain_text("free")
    video_id = page.get_attribute("#job", "data-video-id")
    expect(page.locator(f"#recent-list button[data-video-id='{video_id}']")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)
