"""Inputs made fit for the model's provider before a job exists: converted, or refused with a 400.

A card's ``[inputs]`` section states what its provider documents (image types, MP4-only videos,
inline size caps, hosted URLs only). ``prepare_inputs`` applies it to the inputs a create request
brought: an image of another type is re-encoded, a MOV or WebM becomes an H.264 MP4, and an input
that must travel as a URL is refused when neither the provider's own upload API nor Reelay's signed
links can serve it. Every change is a report entry, so the client sees what the provider received.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from reelay.catalog import ModelCard
from reelay.errors import InvalidRequest
from reelay.jobs.inputs import MediaInput
from reelay.normalize.report import ReportEntry

HOSTING_HINT = (
    "set REELAY_PUBLIC_URL to an https URL at which the provider can reach this server (Reelay then "
    "passes a signed link that expires within the hour), or use S3 storage (REELAY_STORAGE=s3, whose "
    "presigned URLs serve the same purpose)"
)


@dataclass(frozen=True)
class PreparedInputs:
    references: list[MediaInput]
    video: MediaInput | None
    report: tuple[ReportEntry, ...]


async def prepare_inputs(
    card: ModelCard, references: list[MediaInput], video: MediaInput | None, *, can_host: bool
) -> PreparedInputs:
    """Apply ``card.inputs`` to the request's inputs; ``can_host`` says whether an input can reach the
    provider as a URL (the provider's own upload API, or Reelay's signed links)."""
    entries: list[ReportEntry] = []
    images = [await _fit_image(card, image, can_host, entries) for image in references]
    fitted_video = await _fit_video(card, video, entries) if video is not None else None
    return PreparedInputs(images, fitted_video, tuple(entries))


async def _fit_image(card: ModelCard, image: MediaInput, can_host: bool, entries: list[ReportEntry]) -> MediaInput:
    rules = card.inputs
    if image.mime not in rules.image_types:
        target = rules.image_types[0]
        base = image.path.with_name(f"{image.path.stem}-converted")
        from reelay.jobs.input_media import convert_image  # av and Pillow: loaded by the first conversion

        converted = await asyncio.to_thread(convert_image, image.path, target, base)
        new_path = base.with_suffix(converted.suffix)
        entries.append(
            ReportEntry(
                "input_reference",
                "converted",
                image.mime,
                converted.mime,
                note=f"{card.id} takes {', '.join(rules.image_types)}; the image was re-encoded as {converted.mime}",
            )
        )
        image = replace(image, path=new_path, suffix=converted.suffix, mime=converted.mime)
    size = image.path.stat().st_size
    if rules.image_delivery == "hosted":
        if not can_host:
            raise InvalidRequest(
                f"{card.id} takes input images only as URLs its provider fetches; {HOSTING_HINT}.",
                param="input_reference",
            )
        entries.append(
            ReportEntry(
                "input_reference",
                "converted",
                image.mime,
                "url",
                note="sent as a short-lived link to Reelay's copy (the provider takes hosted images only)",
            )
        )
    elif rules.max_inline_image_bytes is not None and size > rules.max_inline_image_bytes:
        cap = rules.max_inline_image_bytes
        if not can_host:
            raise InvalidRequest(
                f"the image is {size / 1e6:.1f} MB; {card.id} takes inline images up to {cap / 1e6:.1f} MB. "
                f"Send a smaller image, or {HOSTING_HINT}.",
                param="input_reference",
            )
        entries.append(
            ReportEntry(
                "input_reference",
                "converted",
                size,
                "url",
                note=f"over the {cap / 1e6:.1f} MB inline limit: sent as an uploaded or signed URL",
            )
        )
    return image


async def _fit_video(card: ModelCard, video: MediaInput, entries: list[ReportEntry]) -> MediaInput:
    rules = card.inputs
    container = video.suffix.lstrip(".")
    wrong_container = bool(rules.video_containers) and container not in rules.video_containers
    wrong_codec = bool(rules.video_codecs) and video.codec not in rules.video_codecs
    if wrong_container or wrong_codec:
        target = video.path.with_name(f"{video.path.stem}-converted.mp4")
        from reelay.jobs.input_media import transcode_to_h264_mp4  # av: loaded by the first transcode

        await asyncio.to_thread(transcode_to_h264_mp4, video.path, target)
        requested = {"container": container, "codec": video.codec}
        entries.append(
            ReportEntry(
                "input_video",
                "converted",
                requested,
                {"container": "mp4", "codec": "h264"},
                note=f"{card.id} takes {'/'.join(rules.video_containers) or 'any'} videos encoded as "
                f"{', '.join(rules.video_codecs) or 'any codec'}; re-encoded as an H.264 MP4",
            )
        )
        video = replace(video, path=target, suffix=".mp4", mime="video/mp4", codec="h264")
    cap = rules.max_inline_video_bytes
    size = video.path.stat().st_size
    if cap is not None and size > cap:
        raise InvalidRequest(
            f"the input video is {size / 2**20:.1f} MiB; {card.id} takes videos up to {cap / 2**20:.0f} MiB. "
            "Send a shorter or smaller MP4.",
            param="input_video",
        )
    return video
