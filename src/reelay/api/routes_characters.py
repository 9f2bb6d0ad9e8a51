"""``POST /v1/videos/characters`` and ``GET /v1/videos/characters/{id}``: the openai SDK's
``client.videos.create_character(name=…, video=…)`` and ``get_character(id)``.

A character is made from a video: an upload (as the SDK sends it), a URL or data URI, or
``{"id": "video_…"}`` for one of the caller's own finished videos. Generations use it by id in
``characters`` (``reelay.characters.apply``). Keys see only their own characters (404 otherwise).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from reelay.api.deps import AppContext, context, principal
from reelay.api.parsing import parse_body, video_source
from reelay.characters import Character, CharacterStore
from reelay.errors import InvalidRequest
from reelay.jobs.inputs import read_source, scratch_dir
from reelay.jobs.service import Principal

router = APIRouter(tags=["characters"])
Ctx = Annotated[AppContext, Depends(context)]
Who = Annotated[Principal, Depends(principal)]


class CharacterObject(BaseModel):
    id: str
    object: str = "character"
    name: str
    created_at: int


class CreateCharacterBody(BaseModel):
    name: str = Field(description="a display name")
    video: Any = Field(description='the source: an uploaded file, {"id": "video_…"}, a URL or a data URI')


def _answer(character: Character, status: int = 200) -> JSONResponse:
    body = CharacterObject(id=character.id, name=character.name, created_at=character.created_at)
    return JSONResponse(body.model_dump(), status_code=status)


@router.post(
    "/videos/characters",
    response_model=CharacterObject,
    summary="Create a character from a video (its stills become references for later generations)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": CreateCharacterBody.model_json_schema()},
                "application/json": {"schema": CreateCharacterBody.model_json_schema()},
            },
        }
    },
)
async def create_character(request: Request, ctx: Ctx, who: Who) -> JSONResponse:
    data, form = await parse_body(request, max_part_bytes=ctx.max_part_bytes)
    fields: dict[str, Any] = dict(data) if form is None else dict(form.multi_items())
    scratch = scratch_dir(ctx.service.scratch_base)
    try:
        name = fields.get("name")
        if not isinstance(name, str):
            raise InvalidRequest("name is required", param="name")
        if fields.get("video") is None:
            raise InvalidRequest("video is required: upload a video file", param="video")

        async def own_video(video_id: str) -> Path:
            return await ctx.service.content_path(who, video_id, "video", 0)

        video = await read_source(
            video_source(fields["video"]), "video", param="video", scratch=scratch, limits=ctx.service.limits,
            lookup_video=own_video,
        )  # fmt: skip
        character = await CharacterStore(ctx.service.storage).create(owner=who.owner, name=name, video=video.path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if form is not None:
            await form.close()
    return _answer(character)


@router.get("/videos/characters/{character_id}", response_model=CharacterObject, summary="Retrieve a character")
async def get_character(character_id: str, ctx: Ctx, who: Who) -> JSONResponse:
    store = CharacterStore(ctx.service.storage)
    return _answer(await store.get(character_id, owner=who.owner, any_owner=who.admin))
