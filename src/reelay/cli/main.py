"""The ``reelay`` command: serve the gateway, inspect the catalog, migrate the database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from reelay import __version__, heap
from reelay.cli.generate import generate as generate_command
from reelay.cli.keys import app as keys_app
from reelay.cli.keys import enforce_loopback_rule
from reelay.cli.usage import usage as usage_command
from reelay.cli.videos import app as videos_app
from reelay.cli.videos import print_remote_models
from reelay.cli.worker import worker as worker_command
from reelay.config import Settings
from reelay.logs import configure_logging
from reelay.runtime_summary import SOURCES_HELP, runtime_summary

KEEP_ALIVE_SECONDS = 65

app = typer.Typer(help="Reelay: a self-hostable, OpenAI-compatible video-generation gateway.", no_args_is_help=True)
console = Console()


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


_SERVE_HELP = f"Run the gateway: API, in-process workers, SQLite and local storage in one process.\n\n{SOURCES_HELP}"


@app.command(help=_SERVE_HELP)
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (default 8000)")] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="REELAY_DATA_DIR", help="database, outputs and secrets")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="CPU-bound jobs at once (renders, collections); waiting jobs hold none")
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="serve every catalog model from the local engine")] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
    log_format: Annotated[
        str, typer.Option(envvar="REELAY_LOG_FORMAT", help="json (one object per line) or text")
    ] = "json",
) -> None:
    """Run the gateway (the --help text is ``_SERVE_HELP``: what runs, and where it is configured)."""
    from reelay.jobs.migrate import start_upgrade_in_child

    heap.limit_arenas(heap.SERVER_ARENAS)  # before the server's threads start (reelay.heap)
    settings = _settings(host=host, port=port, data_dir=data_dir, workers=workers, demo=demo or None)
    # A new or older database is migrated by a child process, so Alembic never loads into the server
    # (jobs.migrate); this process imports the web stack meanwhile, and the two overlap.
    migration = start_upgrade_in_child(settings.resolved_database_url())
    import uvicorn

    from reelay.api.app import create_app

    migration.wait()
    enforce_loopback_rule(settings)  # before binding: no keys means loopback only
    configure_logging(log_level, log_format)  # JSON lines with request/job ids; secrets redacted (reelay.logs)
    console.print(
        f"[bold]Reelay {__version__}[/bold] on http://{settings.host}:{settings.port}  "
        f"(data: {settings.data_dir}{', demo mode' if settings.demo else ''})"
    )
    console.print(runtime_summary(settings), highlight=False, soft_wrap=True)
    logging.getLogger("reelay").info("runtime", extra={"summary": runtime_summary(settings)})
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        log_config=None,  # keep configure_logging's handler for uvicorn's loggers too
        access_log=False,  # the request-context middleware writes the access line, with the request id
        timeout_graceful_shutdown=10,
        ws="none",  # the API has no WebSocket route (events are server-sent): uvicorn skips loading websockets
        # Longer than any client's or load balancer's idle timeout (httpx: 5 s, AWS ALB: 60 s), so
        # the client, not the server, closes an idle connection: with equal timeouts a request sent
        # as the server closes is lost (bench/scale.py lost 5 POSTs of 10,000 with uvicorn's 5 s).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


@app.command()
def models(
    base_url: Annotated[
        str | None, typer.Option("--base-url", envvar="REELAY_BASE_URL", help="ask this running server instead")
    ] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="REELAY_API_KEY")] = None,
) -> None:
    """List the models in the catalog and what each can do (with --base-url: what that server serves)."""
    from reelay.catalog import load_catalog

    if base_url:
        print_remote_models(base_url, api_key)
        return

    settings = _settings()
    wide = console.width >= 110
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("model", no_wrap=True)  # ids must survive a narrow terminal
    for name in ("kind", "provider", "modes", "sizes", "seconds", "$/s")[(0 if wide else 1) :]:
        if name == "sizes" and not wide:
            continue
        table.add_column(name, overflow="fold")
    for card in load_catalog(settings.catalog_dirs).cards():
        sizes = sorted({s for tier in card.tiers.values() for s in tier.values()})
        durations = card.durations
        cells = [card.id, card.provider, ",".join(card.modes)]
        if wide:
            shown = f"{len(sizes)} ({', '.join(sizes[:3])}…)" if len(sizes) > 3 else ", ".join(sizes)
            cells = [card.id, card.kind, card.provider, ",".join(card.modes), shown]
        table.add_row(*cells, f"{durations.min:g}–{durations.max:g}", f"{card.price_per_second:g}")
    console.print(table)


@app.command()
def migrate(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", envvar="REELAY_DATA_DIR")] = None,
) -> None:
    """Apply database migrations (the server also does this on start)."""
    from reelay.jobs.migrate import upgrade_database

    settings = _settings(data_dir=data_dir)
    upgrade_database(settings.resolved_database_url())
    if settings.queue == "procrastinate":
        import asyncio

        from reelay.jobs.procrastinate_queue import ensure_schema

        asyncio.run(ensure_schema(settings.resolved_database_url()))
    console.print(f"database at {settings.resolved_database_url()} is up to date")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


# Separate module: reelay worker (scale-out mode, docs/deploy.md).
app.command(name="worker")(worker_command)

# Separate module: reelay keys create|list|revoke (docs/security.md).
app.add_typer(keys_app, name="keys")

# Separate modules: the remote commands (docs/clients.md): reelay generate, reelay videos list|get|delete|download.
app.command(name="generate")(generate_command)
app.add_typer(videos_app, name="videos")
# Separate module: reelay usage, a running server's ledger (docs/billing.md).
app.command(name="usage")(usage_command)

if __name__ == "__main__":
    app()
