"""What loading the gateway imports: the scale-out drivers and Alembic stay out.

A bare ``pip install .`` has no psycopg or boto3 at all (rule 5 of the house rules), and a restarted
gateway's database is already current. Each module left out is start-up time and resident memory
saved (docs/benchmarks.md). The media stack (av, numpy, Pillow) is not on this list yet: the
diffusers provider reaches it through ``reelay.engine``'s package ``__init__``.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("psycopg", "psycopg_pool", "alembic", "boto3", "procrastinate", "redis")


def loaded_after(statement: str) -> list[str]:
    check = f"import sys\n{statement}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_app_factory_and_the_cli_load_no_scale_out_driver_or_migration_code() -> None:
    assert loaded_after("import reelay.cli.main\nfrom reelay.api.app import create_app") == []
