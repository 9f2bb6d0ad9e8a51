"""Signed download links: ``GET /v1/files/<key>?expires=…&signature=…``, no Authorization needed.

This is what ``output.url`` points at, so a URL printed by a script opens in a browser. The
signature covers the key and the expiry; a tampered or expired link gets a 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from reelay.api.deps import AppContext, context
from reelay.errors import NotFound, PermissionDenied

router = APIRouter(tags=["files"])
Ctx = Annotated[AppContext, Depends(context)]

# Outputs (MP4, JPEG thumbnails) and stored inputs, which providers fetch through signed links.
_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".tiff": "image/tiff",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}


@router.get("/files/{key:path}", response_class=FileResponse, summary="Download a stored file by signed link")
async def download_file(
    key: str,
    ctx: Ctx,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(min_length=64, max_length=64)],
) -> FileResponse:
    if not ctx.links.signer.verify(key, expires, signature):
        raise PermissionDenied("this download link is invalid or has expired; GET the video again for a fresh one")
    path = await ctx.service.storage.local_path(key)
    if path is None:
        raise NotFound("this file has expired or was deleted")
    return FileResponse(path, media_type=_TYPES.get(path.suffix, "application/octet-stream"))
