"""Turn a create request (JSON or multipart/form-data) into a typed ``CreateRequest``.

Parsed once here, at the edge. Accepted shapes (the gateway contract plus the official SDKs):
- JSON: ``input_reference`` as ``{"image_url": "https://…"|"data:…"}``, ``{"image_url": {"url": …}}``,
  a bare URL string, or an array of those; ``input_video`` as a URL string or ``{"url"|"video_url"|"id": …}``.
- multipart: files or URL strings under ``input_reference``, ``input_reference[]``, ``input_reference[N]``;
  ``input_video`` as a file or a URL string. A ``video/*`` file under ``input_reference`` is the input
  video (vLLM-Omni's form for video-to-video). The official ``openai`` SDK sends multipart even without files.
- ``seconds`` or its alias ``duration``; ``deadline_seconds`` (gateway-only, see docs/billing.md); every
  other unknown field is passed through to the provider.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from reelay.api.json_limits import loads_limited
from reelay.billing import deadline
from reelay.errors import InvalidRequest, ReelayError, UnsupportedMediaType
from reelay.jobs.inputs import MediaSource
from reelay.jobs.service import CreateRequest

_SIMPLE_FIELDS = ("model", "size", "aspect_ratio", "resolution", "n", "seed", "reference_mode")
_REFERENCE_KEY = re.compile(r"^input_reference(\[\d*\])?$")
# The SDKs flatten {"image_url": …} (or a list of them) into form fields like input_reference[0][image_url].
_FLAT_REFERENCE_KEY = re.compile(r"^input_reference(\[\d*\])?\[(image_url|url)\](\[url\])?$")
_CHARACTERS_KEY = re.compile(r"^characters(\[\d*\])?$")
# Fields Reelay itself consumes (never forwarded upstream) even though they are not generation params.
# ``video`` is what the SDK's edit/extend send; on create it is accepted as an alias of input_video.
_GATEWAY_FIELDS = frozenset(
    {
        "prompt",
        "seconds",
        "duration",
        "input_reference",
        "input_video",
        "video",
        "webhook_url",
        "deadline_seconds",
        *_SIMPLE_FIELDS,
    }
)


async def read_json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        raise InvalidRequest('the request body is empty; send a JSON object such as {"prompt": "…"}')
    try:
        data = loads_limited(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidRequest(f"the request body is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object")
    reject_unsafe_text(data)
    return data


_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


def _recording_tail(request: Request, tail: bytearray) -> Request:
    """The same request, keeping the last bytes of the body in ``tail`` as it streams past."""
    receive = request.receive

    async def recording() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            tail.extend(message.get("body", b""))
            del tail[:-1024]
        return message

    return Request(request.scope, recording)


def _ends_with_closing_boundary(request: Request, tail: bytearray) -> bool:
    """A complete multipart body ends with ``--<boundary>--`` (python-multipart accepts less)."""
    found = _BOUNDARY.search(request.headers.get("content-type", ""))
    if found is None:
        return False
    boundary = (found.group(1) or found.group(2)).encode("latin-1")
    return bytes(tail).rstrip().endswith(b"--" + boundary + b"--")


_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")


def reject_unsafe_text(value: Any, where: str = "the request body") -> None:
    """NUL and unpaired surrogates (``"\\ud800"`` in JSON) are valid JSON but not storable text (the
    databases and UTF-8 encoders refuse them), so they are a 400 here rather than a 500 later."""
    if isinstance(value, str):
        found = _UNSAFE_TEXT.search(value)
        if found is not None:
            char = found.group()
            what = "a NUL character" if char == "\x00" else f"an unpaired surrogate (U+{ord(char):04X})"
            raise InvalidRequest(f"{where} contains {what}; send valid UTF-8 text without NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_unsafe_text(key, where)
            reject_unsafe_text(item, where)
    elif isinstance(value, list):
        for item in value:
            reject_unsafe_text(item, where)


async def parse_body(request: Request, *, max_part_bytes: int) -> tuple[dict[str, Any], FormData | None]:
    """The body as a JSON object, or as form data (for multipart and urlencoded forms)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        if content_type == "application/x-www-form-urlencoded":
            raw = await request.body()
            if raw.lstrip().startswith(b"{"):  # `curl -d '{…}'` without a JSON content type
                return await read_json_object(request), None
        tail = bytearray()
        if content_type == "multipart/form-data":
            request = _recording_tail(request, tail)
        try:
            form = await request.form(max_files=32, max_fields=128, max_part_size=max_part_bytes)
        except ReelayError:
            raise
        except Exception as error:  # python-multipart and Starlette raise several types for bad bodies
            raise InvalidRequest(f"the multipart body could not be parsed: {error}") from error
        if content_type == "multipart/form-data" and not _ends_with_closing_boundary(request, tail):
            await form.close()
            raise InvalidRequest("the multipart body is truncated (no closing boundary); send the whole request")
        for key, value in form.multi_items():
            reject_unsafe_text([key, value if isinstance(value, str) else value.filename or ""], "the form")
        return {}, form
    if content_type in ("", "application/json", "text/plain") or content_type.endswith("+json"):
        return await read_json_object(request), None
    raise UnsupportedMediaType(
        f"unsupported content type {content_type!r}; send application/json or multipart/form-data"
    )


def create_request_from_json(data: dict[str, Any]) -> CreateRequest:
    seconds, seconds_field = _seconds(data.get("seconds"), data.get("duration"))
    request = CreateRequest(prompt=data.get("prompt"), seconds=seconds, seconds_field=seconds_field)
    _set_simple_fields(request, data)
    request.references = _json_references(data.get("input_reference"))
    video = data.get("input_video", data.get("video"))
    if video is not None:
        request.video = _json_video(video)
    request.extra = {k: v for k, v in data.items() if k not in _GATEWAY_FIELDS}
    request.webhook_url = data.get("webhook_url")
    request.deadline_seconds = deadline.parse(data.get("deadline_seconds"))
    return request


def create_request_from_form(form: FormData) -> CreateRequest:
    fields: dict[str, Any] = {}
    references: list[MediaSource] = []
    video: MediaSource | None = None
    for key, value in form.multi_items():
        if _REFERENCE_KEY.match(key) and _is_video_upload(value):
            video = _form_video(value)  # vLLM-Omni clients send the v2v input under input_reference
        elif _REFERENCE_KEY.match(key):
            references.extend(_form_reference(value))
        elif _FLAT_REFERENCE_KEY.match(key) and isinstance(value, str):
            references.append(_source_from_string(value, "input_reference"))
        elif key in ("input_video", "video"):
            video = _form_video(value)
        elif key in ("input_video[id]", "video[id]") and isinstance(value, str):  # the SDK's {"id": …}, flattened
            video = MediaSource(kind="video_id", value=value)
        elif isinstance(value, UploadFile):
            raise InvalidRequest(
                f"unexpected file in field {key!r}; files go in input_reference or input_video", param=key
            )
        elif _CHARACTERS_KEY.match(key):  # the SDK sends a list as characters[] = …, one part each
            fields.setdefault("characters", []).append(value)
        else:
            fields[key] = value
    seconds, seconds_field = _seconds(fields.get("seconds"), fields.get("duration"))
    request = CreateRequest(prompt=fields.get("prompt"), seconds=seconds, seconds_field=seconds_field)
    _set_simple_fields(request, fields)
    request.references = references
    request.video = video
    request.extra = {k: _maybe_json(v) for k, v in fields.items() if k not in _GATEWAY_FIELDS}
    request.webhook_url = fields.get("webhook_url")
    request.deadline_seconds = deadline.parse(fields.get("deadline_seconds"))
    return request


def _set_simple_fields(request: CreateRequest, data: dict[str, Any]) -> None:
    for name in ("model", "size", "aspect_ratio", "reference_mode"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"{name} must be a string", param=name)
        setattr(request, name, value)
    for name in ("resolution", "n", "seed"):
        value = data.get(name)
        if isinstance(value, (dict, list, bool)):
            raise InvalidRequest(f"{name} must be a number or a string", param=name)
        setattr(request, name, value)


def _seconds(seconds: Any, duration: Any) -> tuple[Any, str]:
    if seconds is not None and duration is not None and str(seconds) != str(duration):
        raise InvalidRequest("send either seconds or duration, not both with different values", param="seconds")
    value, name = (seconds, "seconds") if seconds is not None else (duration, "duration")
    if isinstance(value, (dict, list, bool)):
        raise InvalidRequest(f"{name} must be a number or a numeric string", param=name)
    return value, name


def _source_from_string(value: str, param: str) -> MediaSource:
    text = value.strip()
    if text.startswith("data:"):
        return MediaSource(kind="data", value=text)
    if re.match(r"^https?://", text, re.IGNORECASE):
        return MediaSource(kind="url", value=text)
    raise InvalidRequest(f"{param} must be an https URL, a data: URI or an uploaded file", param=param)


def _json_references(value: Any) -> list[MediaSource]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [_json_reference(item) for item in items]


def _json_reference(item: Any) -> MediaSource:
    if isinstance(item, str):
        return _source_from_string(item, "input_reference")
    if isinstance(item, dict):
        if "file_id" in item and "image_url" not in item:
            raise InvalidRequest(
                "input_reference.file_id is not supported; send image_url (URL or data URI) or upload the file",
                param="input_reference",
            )
        url = item.get("image_url", item.get("url"))
        if isinstance(url, dict):
            url = url.get("url")
        if isinstance(url, str):
            return _source_from_string(url, "input_reference")
    raise InvalidRequest(
        'input_reference must be {"image_url": "<https URL or data URI>"} or an array of those',
        param="input_reference",
    )


def _json_video(value: Any) -> MediaSource:
    if isinstance(value, str):
        if value.startswith("video_"):
            return MediaSource(kind="video_id", value=value)
        return _source_from_string(value, "input_video")
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            return MediaSource(kind="video_id", value=value["id"])
        url = value.get("url", value.get("video_url"))
        if isinstance(url, dict):
            url = url.get("url")
        if isinstance(url, str):
            return _source_from_string(url, "input_video")
    raise InvalidRequest(
        'input_video must be a URL, a data URI, or {"url": …} / {"id": "video_…"}', param="input_video"
    )


def _form_reference(value: str | UploadFile) -> list[MediaSource]:
    if isinstance(value, UploadFile):
        return [_upload(value)]
    parsed = _maybe_json(value)
    if isinstance(parsed, (dict, list)):
        return _json_references(parsed)
    return [_source_from_string(value, "input_reference")]


def video_source(value: Any) -> MediaSource:
    """A video input as a form field or JSON value: an upload, ``{"id": …}``, a URL or a data URI."""
    if isinstance(value, UploadFile | str):
        return _form_video(value)
    return _json_video(value)


def _form_video(value: str | UploadFile) -> MediaSource:
    if isinstance(value, UploadFile):
        return _upload(value)
    return _json_video(_maybe_json(value))


def _is_video_upload(value: str | UploadFile) -> bool:
    return isinstance(value, UploadFile) and (value.content_type or "").startswith("video/")


def _upload(upload: UploadFile) -> MediaSource:
    return MediaSource(
        kind="upload", value=upload.filename or "upload", stream=upload.file, content_type=upload.content_type
    )


def _maybe_json(value: Any) -> Any:
    """Form values that are JSON objects or arrays (as some clients send them) are decoded."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return loads_limited(value)
        except json.JSONDecodeError:
            return value
    return value
