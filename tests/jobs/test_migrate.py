"""Start-up migrations: a current database is recognised without Alembic, an older one is upgraded."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from reelay.jobs.migrate import MigrationFailed, head_revisions, is_current, upgrade_database, upgrade_in_child


def test_heads_read_from_the_files_are_alembics_heads() -> None:
    config = Config()
    config.set_main_option("script_location", str(resources.files("reelay") / "migrations"))
    assert head_revisions() == frozenset(ScriptDirectory.from_config(config).get_heads())


def test_a_new_database_is_migrated_and_then_recognised_as_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    engine = create_engine(url)
    with engine.connect() as connection:
        assert not is_current(connection)  # no alembic_version table yet
    upgrade_database(url)
    with engine.connect() as connection:
        assert is_current(connection)
        tables = {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert {"videos", "alembic_version"} <= tables
    engine.dispose()


def test_a_database_at_another_revision_is_not_taken_for_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    upgrade_database(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'an-older-revision'"))
    with engine.connect() as connection:
        assert not is_current(connection)
    engine.dispose()


def test_a_restart_on_a_current_database_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    upgrade_database(url)
    check = (
        "import sys\nfrom reelay.jobs.migrate import upgrade_database\n"
        f"upgrade_database({url!r})\nprint('alembic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_upgrade_in_child_migrates_a_new_database_without_loading_alembic_here(tmp_path: Path) -> None:
    """``reelay serve`` migrates a new database in a child process: the server never carries Alembic."""
    url = f"sqlite:///{tmp_path / 'data' / 'jobs.db'}"  # the folder does not exist yet
    check = (
        "import sys\nfrom reelay.jobs.migrate import is_database_current, upgrade_in_child\n"
        f"assert not is_database_current({url!r})\n"
        f"upgrade_in_child({url!r})\nprint(is_database_current({url!r}), 'alembic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


def test_upgrade_in_child_reports_the_childs_failure(tmp_path: Path) -> None:
    (tmp_path / "jobs.db").write_bytes(b"not a database" * 100)
    with pytest.raises(MigrationFailed, match="migrating the database failed"):
        upgrade_in_child(f"sqlite:///{tmp_path / 'jobs.db'}")
