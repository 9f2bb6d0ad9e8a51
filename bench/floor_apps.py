"""Minimal ASGI apps for bench/retrieve_cost.py: what uvicorn plus a framework cost on their own.

Both answer ``GET /v1/videos/{video_id}`` with a small constant JSON object: no database, no
middleware, no logging. ``uvicorn floor_apps:starlette_app`` / ``uvicorn floor_apps:fastapi_app``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def _video(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["video_id"], "object": "video", "status": "queued"})


starlette_app = Starlette(routes=[Route("/v1/videos/{video_id}", _video)])

fastapi_app = FastAPI()


@fastapi_app.get("/v1/videos/{video_id}")
async def _fastapi_video(video_id: str) -> dict[str, str]:
    return {"id": video_id, "object": "video", "status": "queued"}
