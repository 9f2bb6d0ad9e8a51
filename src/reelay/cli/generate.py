"""``reelay generate``: submit to a running Reelay, watch it, download the result(s).

What a person sees: a progress bar on stderr (queued → progress % → downloading, with elapsed time)
and then where the files are. What a script sees with ``--json``: the final video object on stdout
and nothing else there. Ctrl-C while the job runs offers to cancel it on the server (with ``--json``
or without a terminal it cancels without asking). Exit codes: 0 done, 1 the job failed or was
cancelled, 2 bad usage, 3 server unreachable or HTTP error, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from reelay.cli.client import (
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    ApiKeyOption,
    BaseUrlOption,
    ClientError,
    ReelayClient,
    exits_on_client_error,
)

UNFINISHED = ("queued", "in_progress")
MAX_POLL_SECONDS = 2.0
console = Console(stderr=True, highlight=False)


def output_paths(out: Path | None, video_id: str, count: int) -> list[Path]:
    """``fox.mp4`` for one result; ``fox-1.mp4``, ``fox-2.mp4`` … for several (default name: the id)."""
    base = out or Path(f"{video_id}.mp4")
    if base.suffix == "":
        base = base.with_suffix(".mp4")
    if count == 1:
        return [base]
    return [base.with_name(f"{base.stem}-{i}{base.suffix}") for i in range(1, count + 1)]


def request_fields(
    prompt: str, model: str | None, seconds: str | None, size: str | None, n: int | None, extras: dict[str, str]
) -> dict[str, str]:
    fields = {"prompt": prompt, **extras}
    for name, value in (("model", model), ("seconds", seconds), ("size", size), ("n", n)):
        if value is not None:
            fields[name] = str(value)
    return fields


def parse_params(params: list[str]) -> dict[str, str]:
    """``--param key=value`` (repeatable): any extra field, passed through to the provider."""
    extras: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected key=value, got {item!r}", param_hint="--param")
        extras[key.strip()] = value
    return extras


def generate(
    prompt: Annotated[str, typer.Argument(help="what to generate")],
    model: Annotated[str | None, typer.Option(help="model id or alias (default: the server's default)")] = None,
    seconds: Annotated[str | None, typer.Option(help="duration in seconds")] = None,
    size: Annotated[str | None, typer.Option(help="WxH, e.g. 1280x720")] = None,
    aspect_ratio: Annotated[str | None, typer.Option("--aspect-ratio", help="e.g. 16:9 (size wins)")] = None,
    resolution: Annotated[str | None, typer.Option(help="e.g. 720p, 1K (size wins)")] = None,
    seed: Annotated[int | None, typer.Option(help="seed, for repeatable results")] = None,
    n: Annotated[int | None, typer.Option("-n", "--n", min=1, max=4, help="how many videos (1–4)")] = None,
    image: Annotated[
        Path | None, typer.Option("--image", exists=True, dir_okay=False, help="image-to-video: the first frame")
    ] = None,
    video: Annotated[
        Path | None, typer.Option("--video", exists=True, dir_okay=False, help="video-to-video: the input video")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="extra field key=value (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="where to save (n>1: name-1.mp4, …)")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the final video object (JSON) only")] = False,
    base_url: BaseUrlOption = "http://127.0.0.1:8000",
    api_key: ApiKeyOption = None,
) -> None:
    """Generate a video on a running Reelay, show progress, and download the result(s)."""
    extras = parse_params(param or [])
    for name, value in (("aspect_ratio", aspect_ratio), ("resolution", resolution), ("seed", seed)):
        if value is not None:
            extras[name] = str(value)
    files = {name: path for name, path in (("input_reference", image), ("input_video", video)) if path is not None}
    fields = request_fields(prompt, model, seconds, size, n, extras)
    with exits_on_client_error(), ReelayClient(base_url, api_key) as client:
        created = client.create(fields, files)
        final = _watch(client, created, quiet=json_output)
        if final["status"] != "completed":
            _report_failure(final, json_output)
            raise typer.Exit(EXIT_JOB_FAILED)
        paths = _download_all(client, final, out, quiet=json_output)
    if json_output:
        print(json.dumps(final, indent=2))
        return
    for path, result in zip(paths, final["output"]["results"], strict=True):
        console.print(f"[green]saved[/green] {path}  ({result['size']}, {result['seconds']:g} s)")


def _progress(quiet: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )


def _watch(client: ReelayClient, video: dict[str, Any], *, quiet: bool) -> dict[str, Any]:
    """Poll until the job ends; Ctrl-C offers to cancel it (exit 130)."""
    try:  # from the first line on, so a Ctrl-C right after submission still cancels
        if not quiet:
            console.print(
                f"submitted [bold]{video['id']}[/bold] ({video['model']}, {video['size']}, {video['seconds']} s)"
            )
        with _progress(quiet) as progress:
            task = progress.add_task(video["status"], total=100)
            while video["status"] in UNFINISHED:
                progress.update(task, description=video["status"].replace("_", " "), completed=video["progress"])
                video, after = client.get(video["id"])
                time.sleep(min(after or 1.0, MAX_POLL_SECONDS) if video["status"] in UNFINISHED else 0)
            progress.update(task, description=video["status"], completed=video["progress"])
    except KeyboardInterrupt:
        _on_interrupt(client, video["id"], ask=not quiet and sys.stdin.isatty())
        raise typer.Exit(EXIT_INTERRUPTED) from None
    return video


def _on_interrupt(client: ReelayClient, video_id: str, *, ask: bool) -> None:
    cancel = True
    if ask:
        try:
            cancel = typer.confirm(f"\ncancel {video_id} on the server?", default=True, err=True)
        except (KeyboardInterrupt, typer.Abort):
            cancel = True  # a second Ctrl-C means "just stop": cancel rather than leave it running unseen
    if not cancel:
        console.print(f"left {video_id} running; fetch it later with `reelay videos download {video_id}`")
        return
    try:
        client.delete(video_id)
        console.print(f"cancelled {video_id}")
    except ClientError as error:
        console.print(f"[red]could not cancel {video_id}:[/red] {error.message}")


def _report_failure(video: dict[str, Any], json_output: bool) -> None:
    if json_output:
        print(json.dumps(video, indent=2))
    error = video.get("error") or {}
    console.print(
        f"[red]{video['id']} {video['status']}[/red]: {error.get('code', video['status'])}: "
        f"{error.get('message', 'no result')}"
    )


def _download_all(client: ReelayClient, video: dict[str, Any], out: Path | None, *, quiet: bool) -> list[Path]:
    results = video["output"]["results"]
    paths = output_paths(out, video["id"], len(results))
    try:
        with _progress(quiet) as progress:
            for path, result in zip(paths, results, strict=True):
                label = "downloading" if len(results) == 1 else f"download {result['index'] + 1}/{len(results)}"
                task: TaskID = progress.add_task(label, total=result.get("bytes") or None)

                def advance(done: int, total: int | None, task: TaskID = task) -> None:
                    progress.update(task, completed=done, total=total)

                client.download(video["id"], path, index=int(result["index"]), on_bytes=advance)
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None
    return paths
