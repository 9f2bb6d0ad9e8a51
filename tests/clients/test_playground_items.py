"""The playground in headless Chromium, one test per numbered finding of issue 17, each at 1366x900
and 390x844, with axe-core reporting no serious or critical violation on the page it leaves.

The server runs ``--demo`` (every catalog model rendered by the local engine), so items about
several models (the seconds rule of kling, veo-3's sizes) run with no provider key.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.playground_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORTS,
    axe_script,
    needs_chromium,
    screenshot,
    serious_violations,
)
from tests.conftest import LiveServer, free_port, server_env

pytestmark = needs_chromium
SMALL = {"size": "320x180", "seconds": "1"}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("demo") / "data", free_port(), server_env(), args=("--demo",))
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def axe(request: pytest.FixtureRequest) -> str:
    return axe_script(request)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def page(browser: Any, viewport: str, demo_server: LiveServer) -> Iterator[Any]:
    phone = viewport == "phone"
    context = browser.new_context(viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.goto(demo_server.url + "/")
    page.wait_for_selector("body[data-ready='true']")
    yield page
    context.close()


def assert_accessible(page: Any, axe: str) -> None:
    assert serious_violations(page, axe) == []


def fill_form(
    page: Any, prompt: str, *, model: str = "reelay-local", size: str = "320x180", seconds: str = "1"
) -> None:
    page.select_option("#model", model)
    page.fill("#prompt", prompt)
    page.fill("#size", size)
    page.select_option("#seconds", seconds)


def generate(page: Any, prompt: str, **form: str) -> str:
    fill_form(page, prompt, **form)
    page.click("#submit")
    page.wait_for_selector("#job[data-status='completed']", timeout=120_000)
    video_id: str = page.get_attribute("#job", "data-video-id")
    return video_id


def test_1_local_results_say_they_are_a_procedural_preview(page: Any, viewport: str, axe: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#model-info")).to_contain_text("procedural preview, not a learned model")
    generate(page, "a red fox in the snow")
    banner = page.locator("#honesty")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("procedural preview, not a learned model")
    expect(banner).to_contain_text("XAI_API_KEY")
    screenshot(page, "1-honest-local", viewport)
    assert_accessible(page, axe)


def test_2_demo_gives_one_answer_per_job(page: Any, viewport: str, demo_server: LiveServer, axe: str) -> None:
    from playwright.sync_api import expect

    page.select_option("#model", "veo-3")
    info = page.locator("#model-info")
    expect(info).to_contain_text("Demo mode")
    expect(info).not_to_contain_text("learned")
    page.fill("#prompt", "a lighthouse on a cliff at night")
    page.fill("#size", "1080x1920")
    expect(page.locator("#preview-text")).to_contain_text("720x1280", timeout=10_000)  # the dry run, before submitting
    expect(page.locator("#preview-text")).to_contain_text("free")
    page.click("#submit")
    page.wait_for_selector("#job[data-status='completed']", timeout=120_000)
    video_id = page.get_attribute("#job", "data-video-id")
    expect(page.locator("#cost")).to_contain_text("Cost: free, rendered on the local engine")
    expect(page.locator("#cost")).to_contain_text("veo-3 itself would cost about $")
    expect(page.locator("#results")).to_contain_text("720x1280")
    expect(page.locator("#report")).not_to_contain_text("size 1080x1920")
    card = page.locator(f"#recent-list button[data-video-id='{video_id}']")
    expect(card).to_contain_text("720x1280")
    body = httpx.get(f"{demo_server.url}/v1/videos/{video_id}", timeout=30).json()
    assert body["size"] == body["output"]["size"] == "720x1280"
    assert "demo: rendered free" in str(body["metadata"]["normalization"])
    screenshot(page, "2-demo-consistent", viewport)
    assert_accessible(page, axe)


def test_3_status_is_never_stale_and_survives_blips_and_refresh(page: Any, viewport: str, axe: str) -> None:
    from playwright.sync_api import expect

    generate(page, "first")
    expect(page.locator("#status")).to_have_text("completed")
    # a new submission never shows the previous job's status
    fill_form(page, "second")
    # the server blips: every events stream and poll fails for a while, then comes back
    page.route(re.compile(r".*/v1/videos/[^/]+(/events)?$"), lambda route: route.abort())
    page.click("#submit")
    expect(page.locator("#status")).not_to_have_text("completed")
    expect(page.locator("#connection")).to_contain_text("retrying", timeout=20_000)
    expect(page.locator("#connection")).to_contain_text("keeps running")
    screenshot(page, "3-server-blip", viewport)
    page.unroute(re.compile(r".*/v1/videos/[^/]+(/events)?$"))
    page.wait_for_selector("#job[data-status='completed']", timeout=120_000)
    expect(page.locator("#connection")).to_be_hidden()
    second = page.get_attribute("#job", "data-video-id")
    # an upload error clears the old status instead of showing it above the error
    page.set_input_files("#media", files=[{"name": "bad.mp4", "mimeType": "video/mp4", "buffer": b"not a video" * 50}])
    page.click("#submit")
    expect(page.locator("#error")).to_be_visible(timeout=20_000)
    expect(page.locator("#status")).to_have_text("not submitted")
    page.click("#clear-media")
    # a gallery pick shows that video's own timing, not the last job's elapsed time
    page.locator(f"#recent-list button[data-video-id='{second}']").click()
    expect(page.locator("#elapsed")).to_have_text(re.compile(r"^(took \d+ s)?$"))
    # refresh with the server unreachable: the gallery is still there (kept in this browser)
    page.route("**/v1/**", lambda route: route.abort())
    page.reload()
    expect(page.locator(f"#recent-list button[data-video-id='{second}']")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("saved in this browser")
    page.unroute("**/v1/**")
    assert_accessible(page, axe)


def test_4_downloads_for_video_thumbnail_and_spritesheet(page: Any, viewport: str, axe: str) -> None:
    from playwright.sync_api import expect

    video_id = generate(page, "downloads")
    links = page.locator("#results a[download]")
    expect(links).to_have_count(3)
    names = [links.nth(i).get_attribute("download") for i in range(3)]
    assert names == [f"{video_id}-0.mp4", f"{video_id}-0-thumbnail.jpg", f"{video_id}-0-spritesheet.jpg"]
    with page.expect_download() as download:
        links.nth(0).click()
    assert download.value.suggested_filename == f"{video_id}-0.mp4"
    path = download.value.path()
    assert path is not None and Path(path).read_bytes()[4:8] == b"ftyp"
    screenshot(page, "4-downloads", viewport)
    assert_accessible(page, axe)


def test_5_the_call_is_shown_with_code_for_this_job(page: Any, viewport: str, axe: str) -> None:
    from playwright.sync_api import expect

    video_id = generate(page, "show me the call")
    expect(page.locator("#video-id")).to_have_text(video_id)
    page.locator("#call summary").click()
    code = page.locator("#code")
    expect(code).to_contain_text("curl ")
    expect(code).to_contain_text("'prompt=show me the call'")
    page.click("#tab-python")
    expect(code).to_contain_text("client.videos.create_and_poll(")
    expect(code).to_contain_text('prompt="show me the call"')
    page.click("#tab-js")
    expect(code).to_contain_text('form.append("prompt", "show me the call")')
    page.click("#tab-request")
    expect(code).to_contain_text('"model": "reelay-local"')
    page.click("#tab-response")
    expect(code).to_contain_text(f'"id": "{video_id}"')
    expect(page.locator("#tab-response")).to_have_attribute("aria-selected", "true")
    screenshot(page, "5-show-the-call", viewport)
    assert_accessible(page, axe)


def test_6_docs_work_offline(page: Any, viewport: str, demo_server: LiveServer) -> None:
    from playwright.sync_api import expect

    origin = demo_server.url
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort())
    page.goto(origin + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Reelay", timeout=20_000)
    expect(page.locator(".opblock-summary-path", has_text="/v1/videos/{video_id}/events").first).to_be_visible()
    screenshot(page, "6-docs-offline", viewport)


def test_7_the_phone_layout_fits(page: Any, viewport: str, axe: str) -> None:
    from playwright.sync_api import expect

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width
    expect(page.locator("#save-key")).to_be_in_viewport()
    fill_form(page, "fits", size="1280x720")
    fits = page.evaluate(
        "(() => { const s = document.getElementById('size'); return s.scrollWidth <= s.clientWidth })()"
    )
    assert fits, "the Size field cuts its value"
    page.click("#submit")
    expect(page.locator("#job")).to_be_in_viewport(timeout=5_000)  # the result is scrolled to, not below the fold
    page.wait_for_selector("#job[data-status='completed']", timeout=120_000)
    cells = page.locator("#report tbody tr").first.locator("td")
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    for before, after in itertools.pairwise(boxes):  # no two cells of a row overlap
        assert before is not None and after is not None
        overlap_x = min(before["x"] + before["width"], after["x"] + after["width"]) - max(before["x"], after["x"])
        overlap_y = min(before["y"] + before["height"], after["y"] + after["height"]) - max(before["y"], after["y"])
        assert overlap_x <= 0.5 or overlap_y <= 0.5, (before, after)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, "7-layout", viewport)
    assert_accessible(page, axe)


def test_8_the_form_follows_the_api(page: Any, viewport: str, axe: str) -> None:
    from playwright.sync_api import expect

    preview = page.locator("#preview-text")
    page.fill("#prompt", "ratios")
    page.fill("#size", "16:9")  # a ratio, as the API accepts
    expect(preview).to_contain_text("on local", timeout=10_000)
    expect(preview).not_to_contain_text("Will not run")
    page.fill("#size", "4000x4000")  # too large: the dry run says what it becomes before submitting
    expect(preview).to_contain_text("Adjusted", timeout=10_000)
    expect(preview).to_contain_text("720x720")
    page.fill("#size", "0x0")  # rejected: the field is marked, next to the field
    expect(page.locator("#size")).to_have_attribute("aria-invalid", "true", timeout=10_000)
    expect(page.locator("#size-error")).to_contain_text("size")
    page.fill("#size", "1280x720")
    page.select_option("#model", "kling-2.1-master")  # seconds move into kling's 5/10 rule
    options = page.locator("#seconds option").all_inner_texts()
    assert options == ["5", "10"], options
    assert page.input_value("#seconds") in ("5", "10")
    expect(page.locator("#size")).not_to_have_attribute("aria-invalid", "true", timeout=10_000)
    # the controls the API has: seed, aspect ratio, resolution, and cancel / remix / delete on a job
    page.locator("#advanced summary").click()
    expect(page.locator("#seed")).to_be_visible()
    assert "9:16" in page.locator("#aspect option").all_inner_texts()
    screenshot(page, "8-form-rules", viewport)
    assert_accessible(page, axe)


def test_job_actions_cancel_remix_delete_and_keyboard(page: Any, viewport: str, axe: str) -> None:
    from playwright.sync_api import expect

    video_id = generate(page, "to remix")
    page.fill("#prompt", "remixed")
    page.click("#remix")
    page.wait_for_selector("#job[data-status='completed']", timeout=120_000)
    remix_id = page.get_attribute("#job", "data-video-id")
    assert remix_id != video_id
    page.click("#delete")
    expect(page.locator("#status")).to_contain_text(f"deleted {remix_id}")
    expect(page.locator(f"#recent-list button[data-video-id='{remix_id}']")).to_have_count(0)
    # cancel a longer job while it runs: it ends cancelled, and stays listed
    fill_form(page, "to cancel", size="1280x720", seconds="15")
    page.click("#submit")
    expect(page.locator("#cancel")).to_be_visible()
    page.click("#cancel")
    page.wait_for_selector("#job[data-status='cancelled']", timeout=60_000)
    # the gallery works from the keyboard: focus a card and press Enter
    card = page.locator(f"#recent-list button[data-video-id='{video_id}']")
    card.focus()
    page.keyboard.press("Enter")
    expect(card).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#job")).to_have_attribute("data-video-id", video_id)
    assert page.get_attribute("#status-line", "aria-live") == "polite"
    # both themes pass axe: the Theme button switches from the system's choice to the other one and back
    first = page.evaluate("getComputedStyle(document.documentElement).colorScheme")
    page.click("#theme")
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") != first
    assert_accessible(page, axe)
    if page.evaluate("document.documentElement.dataset.theme") == "dark":
        screenshot(page, "dark-theme", viewport)
        page.click("#theme")
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "light"
    screenshot(page, "light-theme", viewport)
    assert_accessible(page, axe)
