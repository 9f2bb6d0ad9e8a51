"""``reelay generate``: submit to a running Reelay, watch it, download the result(s).

What a person sees: a progress bar on stderr (queued → progress % → downloading, with elapsed time)
and then where the files are. What a script sees with ``--json``: the final video object on stdout
and nothing else there. Progress comes live from ``GET /v1/videos/{id}/events`` (polling if the
server has no events route); if the server cannot be reached for a while the CLI retries with backoff
and, should it give up, says how to fetch the durable job later. Ctrl-C while the job runs offers to
cancel it on the server (``POST /v1/videos/{id}/cancel``: it ends ``cancelled``, it is not deleted;
with ``--json`` or without a terminal it cancels without asking). Exit codes (``cli.client``): 0 done,
1 the job failed or was cancelled, 2 bad usage, 3 server unreachable, 4 request rejected, 5 key
refused, 6 limit reached, 7 server error, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
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
CANCEL_CONFIRM_SECONDS = 10.0
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
    with exits_on_client_error(), ReelayClient(base_url, api_key, on_retry=_say_retry(json_output)) as client:
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


def _say_retry(quiet: bool) -> Callable[[str, float], None] | None:
    if quiet:
        return None

    def say(what: str, wait: float) -> None:
        console.print(f"[yellow]{what}[/yellow]; retrying in {wait:.1f} s")

    return say


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
    """Follow the job until it ends; Ctrl-C offers to cancel it (exit 130)."""
    try:  # from the first line on, so a Ctrl-C right after submission still cancels
        if not quiet:
            console.print(
                f"submitted [bold]{video['id']}[/bold] ({video['model']}, {video['size']}, {video['seconds']} s)"
            )
        with _progress(quiet) as progress:
            task = progress.add_task(video["status"], total=100)

            def show(current: dict[str, Any]) -> None:
                progress.update(task, description=current["status"].replace("_", " "), completed=current["progress"])

            show(video)
            try:
                video = _follow(client, video, show)
            except ClientError as error:
                if error.unreachable:
                    console.print(
                        f"[red]lost contact with the server[/red]; {video['id']} is stored there and may still "
                        f"finish: `reelay videos get {video['id']}` / `reelay videos download {video['id']}`"
                    )
                raise
            show(video)
    except KeyboardInterrupt:
        _on_interrupt(client, video["id"], ask=not quiet and sys.stdin.isatty())
        raise typer.Exit(EXIT_INTERRUPTED) from None
    return video


def _follow(client: ReelayClient, video: dict[str, Any], show: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The finished video: live events, resumed after a dropped connection (with backoff, up to the
    client's retry budget); polling instead where the server has no events route."""
    deadline = time.monotonic() + client.retry_seconds
    delay = 0.5
    last_id: str | None = None
    while video["status"] in UNFINISHED:
        try:
            for current in client.events(video["id"], last_id):
                video, last_id = current, f"{current['status']}.{current['progress']}"
                deadline, delay = time.monotonic() + client.retry_seconds, 0.5  # the server is back
                show(video)
            if video["status"] in UNFINISHED:  # the stream ended early (a restart): read the truth
                video, _ = client.get(video["id"])
        except ClientError as error:
            if error.status in (404, 405) and error.code != "video_not_found":
                return _poll(client, video, show)  # an older server: no events route
            if not error.unreachable or time.monotonic() + delay > deadline:
                raise
            if client.on_retry is not None:
                client.on_retry(error.message, delay)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)
    return video


def _poll(client: ReelayClient, video: dict[str, Any], show: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    while video["status"] in UNFINISHED:
        video, after = client.get(video["id"])
        show(video)
        if video["status"] in UNFINISHED:
            time.sleep(min(after or 1.0, MAX_POLL_SECONDS))
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
        video = _confirm_cancel(client, client.cancel(video_id))
    except ClientError as error:
        console.print(f"[red]could not cancel {video_id}:[/red] {error.message}")
        return
    if video["status"] in UNFINISHED:
        console.print(f"cancel requested for {video_id}; the server is stopping it (`reelay videos get {video_id}`)")
    else:
        console.print(f"{video['status']} {video_id} (it stays listed; `reelay videos delete {video_id}` removes it)")


def _confirm_cancel(client: ReelayClient, video: dict[str, Any]) -> dict[str, Any]:
    """Wait a little for the server to end the job: a running job is stopped by the worker holding it
    (within a second or two), so the answer to the cancel request may still say ``in_progress``."""
    deadline = time.monotonic() + CANCEL_CONFIRM_SECONDS
    while video["status"] in UNFINISHED and time.monotonic() < deadline:
        time.sleep(0.25)
        video, _ = client.get(video["id"])
    return video


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
