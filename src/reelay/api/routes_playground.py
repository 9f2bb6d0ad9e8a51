"""The web playground: one static page (``api/static/``) at ``/`` and ``/playground``.

Plain HTML, CSS and JavaScript shipped inside the package, so there is no build step and nothing to
fetch from elsewhere; the page talks to the same public API every other client uses (``/v1/models``,
``/v1/videos``), sending the API key from its own key field when the server has keys configured.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS_PATH = "/playground/assets"


async def playground_page() -> FileResponse:
    """The page itself; ``no-cache`` so an upgraded server is never shown with a stale script."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


def mount_playground(app: FastAPI) -> None:
    for path in ("/", "/playground"):
        app.add_api_route(path, playground_page, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC_DIR), name="playground-assets")
