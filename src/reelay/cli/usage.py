"""``reelay usage``: spend, holds and refunds on a running Reelay (``GET /v1/usage``, docs/billing.md).

A key sees its own usage; an admin key sees every key's. Exit codes as in ``cli.client``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from reelay.cli.client import ApiKeyOption, BaseUrlOption, ReelayClient, exits_on_client_error

console = Console(highlight=False)


def usage(
    key: Annotated[str | None, typer.Option(help="admins: only this key id")] = None,
    start: Annotated[str | None, typer.Option(help="first UTC day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last UTC day, YYYY-MM-DD")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    base_url: BaseUrlOption = "http://127.0.0.1:8000",
    api_key: ApiKeyOption = None,
) -> None:
    """Show spend, holds and refunds by key, model, provider and day (USD)."""
    with exits_on_client_error(), ReelayClient(base_url, api_key) as client:
        body = client.usage(key=key, start=start, end=end)
    if json_output:
        print(json.dumps(body, indent=2))
        return
    table = Table("day (UTC)", "key", "model", "provider", "jobs", "spent $", "held $", "refunded $")
    for line in body["data"]:
        table.add_row(
            line["day"],
            line["key"] or "-",
            line["model"],
            line["provider"],
            str(line["jobs"]),
            f"{line['spent']:.4f}",
            f"{line['held']:.4f}",
            f"{line['refunded']:.4f}",
        )
    totals = body["totals"]
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        "",
        str(totals["jobs"]),
        f"{totals['spent']:.4f}",
        f"{totals['held']:.4f}",
        f"{totals['refunded']:.4f}",
    )
    console.print(table)
