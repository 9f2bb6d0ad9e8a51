"""``reelay worker``: run jobs in this process, apart from the API (the scale-out mode).

The worker is the same runtime as ``reelay serve`` (``reelay.runtime``: database, storage,
providers, routing, relay, workers) with workers on and no web app, so the two can never disagree
on how a job runs. It needs ``REELAY_QUEUE=procrastinate``: with the embedded in-process queue, jobs created
by an API process would never reach a separate worker process.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from reelay import heap
from reelay.config import Settings
from reelay.logs import configure_logging

console = Console(stderr=True)


def _names(values: list[str] | None) -> list[str]:
    """``--models a,b --models c`` → ``[a, b, c]``."""
    return [name.strip() for value in values or [] for name in value.split(",") if name.strip()]


def worker(
    concurrency: Annotated[int | None, typer.Option(help="jobs run at once (default REELAY_WORKERS)")] = None,
    models: Annotated[
        list[str] | None, typer.Option("--models", help="take only jobs for these models (comma-separated)")
    ] = None,
    providers: Annotated[
        list[str] | None, typer.Option("--providers", help="take only jobs routed to these providers")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="REELAY_DATA_DIR", help="scratch files and caches")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
    log_format: Annotated[
        str, typer.Option(envvar="REELAY_LOG_FORMAT", help="json (one object per line) or text")
    ] = "json",
) -> None:
    """Run jobs from the queue (REELAY_QUEUE=procrastinate), separately from the API."""
    overrides: dict[str, object] = {"run_workers": True}
    if concurrency is not None:
        overrides["workers"] = concurrency
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if models:
        overrides["worker_models"] = _names(models)
    if providers:
        overrides["worker_providers"] = _names(providers)
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.queue != "procrastinate":
        console.print(
            "reelay worker needs a shared queue: set REELAY_QUEUE=procrastinate and "
            "REELAY_DATABASE_URL=postgresql+psycopg://… (docs/deploy.md). "
            "`reelay serve` alone runs its own workers."
        )
        raise typer.Exit(2)
    configure_logging(log_level, log_format)  # as `reelay serve`: JSON lines with job ids, secrets redacted
    heap.limit_arenas(heap.SERVER_ARENAS)  # before the worker's threads start (reelay.heap)
    asyncio.run(_run(settings))


async def _run(settings: Settings) -> None:
    from reelay.jobs.migrate import upgrade_in_child
    from reelay.runtime import build_runtime
    from reelay.runtime_summary import runtime_summary

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Alembic never loads into the worker (jobs.migrate); build_runtime then finds the database current
    await asyncio.to_thread(upgrade_in_child, settings.resolved_database_url())
    runtime = await build_runtime(settings)
    try:
        await runtime.start()
        console.print(
            f"reelay worker: {settings.workers} CPU jobs and {settings.submit_concurrency} submissions at once, "
            f"data in {settings.data_dir}"
        )
        console.print(runtime_summary(settings), highlight=False, soft_wrap=True)
        await stop.wait()
    finally:
        await runtime.close()
