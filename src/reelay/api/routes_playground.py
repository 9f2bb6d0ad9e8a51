"""The web playground: one static page (``api/static/``) at ``/`` and ``/playground``.

Plain HTML, CSS and JavaScript shipped inside the package, so there is no build step and nothing to
fetch from elsewhere (``/docs`` too: Swagger UI's files are vendored in ``static/swagger-ui/``, Apache-2.0);
the page talks to the same public API every other client uses (``/v1/models``,
``/v1/videos``), sending the API key from its own key field when the server has keys configured.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS_PATH = "/playground/assets"


async def playground_page() -> FileResponse:
    """The page itself; ``no-cache`` so an upgraded server is never shown with a stale script."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


def mount_playground(app: FastAPI) -> None:
    for path in ("/", "/playground"):
        app.add_api_route(path, playground_page, methods=["GET"], include_in_schema=False)

    async def docs_page() -> HTMLResponse:
        """Swagger UI from files shipped in the package (``static/swagger-ui/``), not from a CDN."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/swagger-ui/favicon-32x32.png",
        )

    app.add_api_route("/docs", docs_page, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC_DIR), name="playground-assets")
