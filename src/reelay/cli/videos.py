"""``reelay videos list|get|delete|download`` and ``reelay models --base-url``: a running server's view.

Thin wrappers over the public API (``cli.client``); tables for people, ``--json`` for scripts.
Exit codes as in ``cli.client``: 3 when the server is unreachable or answers with an HTTP error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from reelay.cli.client import ApiKeyOption, BaseUrlOption, ReelayClient, exits_on_client_error

app = typer.Typer(help="List, inspect, delete and download videos on a running Reelay.", no_args_is_help=True)
console = Console(highlight=False)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
VideoIdArg = Annotated[str, typer.Argument(help="the video id (video_…)")]
_SUFFIX = {"video": ".mp4", "thumbnail": ".jpg", "spritesheet": ".jpg"}


def _when(stamp: int | None) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M") if stamp else "-"


@app.command("list")
def list_videos(
    limit: Annotated[int, typer.Option(min=1, max=100, help="how many (newest first)")] = 20,
    after: Annotated[str | None, typer.Option(help="cursor: the last id of the previous page")] = None,
    json_output: JsonFlag = False,
    base_url: BaseUrlOption = "http://127.0.0.1:8000",
    api_key: ApiKeyOption = None,
) -> None:
    """List videos, newest first."""
    with exits_on_client_error(), ReelayClient(base_url, api_key) as client:
        page = client.page(limit=limit, after=after)
    if json_output:
        print(json.dumps(page, indent=2))
        return
    print_video_table(page["data"])
    if page["has_more"]:
        console.print(f"more: reelay videos list --after {page['last_id']}")


def print_video_table(videos: list[dict[str, Any]]) -> None:
    """Full ids always (they are what every other command takes). From 100 columns a table; below,
    two lines per video (id, status, size and length; then model, date and prompt), cut to fit."""
    if console.width >= 100:
        table = Table("id", "status", "model", "size", "seconds", "created (UTC)", "prompt", box=box.SIMPLE_HEAD)
        table.columns[0].no_wrap = True
        table.columns[6].max_width = 40
        table.columns[6].no_wrap = True
        for video in videos:
            table.add_row(
                video["id"],
                _status(video),
                video["model"],
                video["size"],
                video["seconds"],
                _when(video["created_at"]),
                video["prompt"],
            )
        console.print(table)
        return
    for video in videos:
        console.print(f"{video['id']}  {_status(video):<15} {video['size']:>9} {video['seconds']:>3}s", soft_wrap=True)
        details = f"    {video['model']} · {_when(video['created_at'])} · {video['prompt']}"
        console.print(_shorten(details, console.width - 1), soft_wrap=True)


def _status(video: dict[str, Any]) -> str:
    status = str(video["status"])
    return status + (f" {video['progress']}%" if status == "in_progress" else "")


def _shorten(text: str, width: int) -> str:
    width = max(width, 10)
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("get")
def get_video(
    video_id: VideoIdArg, base_url: BaseUrlOption = "http://127.0.0.1:8000", api_key: ApiKeyOption = None
) -> None:
    """Print one video object (JSON)."""
    with exits_on_client_error(), ReelayClient(base_url, api_key) as client:
        video, _ = client.get(video_id)
    print(json.dumps(video, indent=2))


@app.command("delete")
def delete_video(
    video_id: VideoIdArg, base_url: BaseUrlOption = "http://127.0.0.1:8000", api_key: ApiKeyOption = None
) -> None:
    """Delete a video and its files (an unfinished one is cancelled)."""
    with exits_on_client_error(), ReelayClient(base_url, api_key) as client:
        client.delete(video_id)
    console.print(f"deleted {video_id}")


@app.command("download")
def download_video(
    video_id: VideoIdArg,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="file to write (default: <id>.mp4 / .jpg)")] = None,
    variant: Annotated[str, typer.Option(help="video, thumbnail or spritesheet")] = "video",
    index: Annotated[int, typer.Option(min=0, max=3, help="which of the n results")] = 0,
    base_url: BaseUrlOption = "http://127.0.0.1:8000",
    api_key: ApiKeyOption = None,
) -> None:
    """Download a finished video, its thumbnail or its spritesheet."""
    if variant not in _SUFFIX:
        raise typer.BadParameter("choose video, thumbnail or spritesheet", param_hint="--variant")
    target = out or Path(f"{video_id}{'' if variant == 'video' else '.' + variant}{_SUFFIX[variant]}")
    with exits_on_client_error(), ReelayClient(base_url, api_key) as client:
        client.download(video_id, target, variant=variant, index=index)
    console.print(f"saved {target}")


def print_remote_models(base_url: str, api_key: str | None) -> None:
    """``reelay models --base-url …``: the server's catalog and what it can serve right now."""
    with exits_on_client_error(), ReelayClient(base_url, api_key) as client:
        models = client.models()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("model", no_wrap=True)  # ids must survive a narrow terminal
    for name in ("available", "served by", "modes", "seconds", "$/s"):
        table.add_column(name, overflow="fold")
    ordered: list[dict[str, Any]] = sorted(models, key=lambda m: (not m.get("available"), str(m["id"])))
    for model in ordered:
        caps: dict[str, Any] = model.get("capabilities") or {}
        seconds = caps.get("seconds") or {}
        pricing = caps.get("pricing") or {}
        table.add_row(
            model["id"],
            "yes" if model.get("available") else "no",
            model.get("served_by") or "-",
            ",".join(caps.get("modes", [])),
            f"{seconds.get('min', '?'):g}–{seconds.get('max', '?'):g}" if seconds else "",
            f"{pricing.get('per_second', 0):g}",
        )
    console.print(table)
