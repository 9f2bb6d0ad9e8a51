"""The ``reelay`` command: serve the gateway, inspect the catalog, migrate the database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from reelay import __version__
from reelay.config import Settings

app = typer.Typer(help="Reelay: a self-hostable, OpenAI-compatible video-generation gateway.", no_args_is_help=True)
console = Console()


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (default 8000)")] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="REELAY_DATA_DIR", help="database, outputs and secrets")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="jobs run at once")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="serve every catalog model from the local engine")] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Run the gateway: API, in-process workers, SQLite and local storage in one process."""
    import uvicorn

    from reelay.api.app import create_app

    settings = _settings(host=host, port=port, data_dir=data_dir, workers=workers, demo=demo or None)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    console.print(
        f"[bold]Reelay {__version__}[/bold] on http://{settings.host}:{settings.port}  "
        f"(data: {settings.data_dir}{', demo mode' if settings.demo else ''})"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        timeout_graceful_shutdown=10,
    )


@app.command()
def models() -> None:
    """List the models in the catalog and what each can do."""
    from reelay.catalog import load_catalog

    settings = _settings()
    table = Table("model", "kind", "provider", "modes", "sizes", "seconds", "$/s")
    for card in load_catalog(settings.catalog_dirs).cards():
        caps = card.capabilities()
        sizes = sorted({s for tier in card.tiers.values() for s in tier.values()})
        durations = caps.get("durations", {})
        table.add_row(
            card.id,
            card.kind,
            card.provider,
            ",".join(card.modes),
            f"{len(sizes)} ({', '.join(sizes[:3])}…)" if len(sizes) > 3 else ", ".join(sizes),
            f"{durations.get('min')}–{durations.get('max')}" if isinstance(durations, dict) else "",
            f"{card.price_per_second:g}",
        )
    console.print(table)


@app.command()
def migrate(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", envvar="REELAY_DATA_DIR")] = None,
) -> None:
    """Apply database migrations (the server also does this on start)."""
    from reelay.jobs.migrate import upgrade_database

    settings = _settings(data_dir=data_dir)
    upgrade_database(settings.resolved_database_url())
    console.print(f"database at {settings.resolved_database_url()} is up to date")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


if __name__ == "__main__":
    app()
