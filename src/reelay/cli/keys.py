"""``reelay keys create|list|revoke`` and the loopback rule ``reelay serve`` enforces.

Keys live in the database, so these commands work against a running server (same data dir or
``REELAY_DATABASE_URL``); the server sees a new or revoked key on the next request. The full key is
printed once by ``create`` and cannot be shown again.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, select

from reelay.config import Settings
from reelay.errors import ReelayError
from reelay.security.keys import ApiKey, KeyLimits, KeyStore

app = typer.Typer(help="Create, list and revoke API keys (stored as hashes; shown once).", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", envvar="REELAY_DATA_DIR", help="database, outputs and secrets")
]


def _run(data_dir: Path | None, action: Callable[[KeyStore], Awaitable[T]]) -> T:
    from reelay.jobs.migrate import upgrade_database
    from reelay.jobs.store import make_engine

    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    url = settings.resolved_database_url()
    upgrade_database(url)

    async def go() -> T:
        engine = make_engine(url)
        try:
            return await action(KeyStore(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except ReelayError as error:
        err_console.print(f"[red]error:[/red] {error.message}")
        raise typer.Exit(1) from None


def _print_narrow(keys: list[ApiKey]) -> None:
    """Below 120 columns: one line of at most 79 characters per key, the id whole, the name cut."""
    print(f"{'id':<16}  {'name':<16}  {'rpm/conc':<9}  {'spent/max $':<11}  {'created':<10}  state")
    for key in keys:
        limits = key.limits
        name = f"*{key.name}" if key.admin else key.name
        name = name if len(name) <= 16 else name[:15] + "…"
        rpm = f"{limits.rpm or '-'}/{limits.max_concurrent or '-'}"
        budget = f"{limits.budget_usd:g}" if limits.budget_usd is not None else "-"
        spent = f"{key.spent_usd:.2f}/{budget}"
        state = "revoked" if key.revoked_at else "active"
        print(f"{key.id:<16}  {name:<16}  {rpm:<9}  {spent:<11}  {_day(key.created_at):<10}  {state}")
    if any(key.admin for key in keys):
        print("* admin key")


def _day(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d") if stamp else "-"


def _when(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M") if stamp else "-"


@app.command()
def create(
    name: Annotated[str, typer.Option(help="a label, e.g. who uses the key")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="may see every video and manage keys")] = False,
    rpm: Annotated[int | None, typer.Option(help="requests per minute (default: REELAY_DEFAULT_RPM)")] = None,
    max_concurrent: Annotated[int | None, typer.Option(help="unfinished videos at once")] = None,
    budget_usd: Annotated[float | None, typer.Option(help="USD of cost estimates this key may spend")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a key and print it ONCE; only its hash is stored."""
    limits = KeyLimits(rpm=rpm, max_concurrent=max_concurrent, budget_usd=budget_usd)
    key, token = _run(data_dir, lambda keys: keys.create(name=name, admin=admin, limits=limits))
    console.print(f"created {'admin ' if key.admin else ''}key {key.id}{f' ({key.name})' if key.name else ''}")
    console.print("store it now, it will not be shown again:")
    print(token)  # plain print: no wrapping or markup, so it can be piped


@app.command("list")
def list_keys(data_dir: DataDir = None) -> None:
    """List keys with their limits and spending (never the secrets)."""
    keys = _run(data_dir, lambda store: store.list())
    if console.width < 120:
        _print_narrow(keys)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for name in ("id", "name", "admin", "rpm", "concurrent", "budget $", "spent $", "created", "last used", "revoked"):
        table.add_column(name, no_wrap=name == "id")  # ids must survive a narrow terminal
    for key in keys:
        limits = key.limits
        table.add_row(
            key.id,
            key.name,
            "yes" if key.admin else "",
            str(limits.rpm or "-"),
            str(limits.max_concurrent or "-"),
            f"{limits.budget_usd:g}" if limits.budget_usd is not None else "-",
            f"{key.spent_usd:.4f}",
            _when(key.created_at),
            _when(key.last_used_at),
            _when(key.revoked_at),
        )
    console.print(table)


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="the id from `reelay keys list`")], data_dir: DataDir = None
) -> None:
    """Revoke a key at once (its next request answers 401). Keys are never deleted."""
    key = _run(data_dir, lambda keys: keys.revoke(key_id))
    console.print(f"revoked key {key.id}")


# -- the loopback rule --------------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name localhost; anything else (0.0.0.0, ::, a name) may face a network."""
    text = host.strip().strip("[]").lower()
    if text in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def keys_configured(database_url: str) -> bool:
    """Whether any API key row exists (revoked ones count: revoking every key must not open the API)."""
    from reelay.jobs.migrate import sync_url, upgrade_database
    from reelay.security.models import ApiKeyRow

    upgrade_database(database_url)
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return connection.execute(select(ApiKeyRow.id).limit(1)).first() is not None
    finally:
        engine.dispose()


def enforce_loopback_rule(settings: Settings) -> None:
    """Before binding: without keys, serve on loopback only; refuse any other address (exit 2)."""
    if keys_configured(settings.resolved_database_url()):
        console.print("API keys are configured: every request needs Authorization: Bearer <key>")
        return
    if is_loopback_host(settings.host):
        console.print(
            f"no API keys configured: serving on loopback ({settings.host}) only, without authentication; "
            "create a key with `reelay keys create --admin` to serve on other addresses"
        )
        return
    err_console.print(
        f"[red]refusing to listen on {settings.host}:[/red] no API keys are configured, so anyone who can reach "
        f"this address could use your provider accounts. Create a key first (`reelay keys create --admin`), "
        "or bind to 127.0.0.1."
    )
    raise typer.Exit(2)
