"""What loading the gateway imports: the scale-out drivers, Alembic and the media stack stay out.

A bare ``pip install .`` has no psycopg or boto3 at all (rule 5 of the house rules), and a restarted
gateway's database is already current. PyAV, numpy, Pillow, torch and diffusers belong to the render,
media and diffusers engine processes, and load in the API process only when a request needs them (a
character's frames, an upload's probe). Each module left out is start-up time and resident memory
saved (docs/benchmarks.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = (
    "psycopg",
    "psycopg_pool",
    "alembic",
    "boto3",
    "procrastinate",
    "redis",
    "av",
    "numpy",
    "PIL",
    "torch",
    "diffusers",
    "transformers",
)


def run(statement: str) -> str:
    result = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def loaded_after(statement: str) -> list[str]:
    return run(f"import sys\n{statement}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))").split()


def test_the_app_factory_and_the_cli_load_no_scale_out_driver_migration_code_or_media_stack() -> None:
    assert loaded_after("import reelay.cli.main\nfrom reelay.api.app import create_app") == []


def test_the_diffusers_provider_loads_neither_torch_nor_the_procedural_engine() -> None:
    assert loaded_after("import reelay.providers.diffusers_engine\nimport reelay.characters.store") == []


def test_the_engine_package_exports_its_functions_whichever_module_is_imported_first() -> None:
    """``probe`` and ``render`` are submodules and the functions under the same names."""
    statement = (
        "import reelay.engine.probe, reelay.engine.render\n"
        "from reelay.engine import probe, render, RenderSpec\n"
        "import reelay.engine as engine\n"
        "print(callable(probe), probe.__module__, render.__module__, engine.probe is probe, RenderSpec.__name__)"
    )
    assert run(statement).split() == ["True", "reelay.engine.probe", "reelay.engine.render", "True", "RenderSpec"]


def test_a_media_process_that_probes_loads_neither_pillow_numpy_nor_asyncio(tmp_path: Path) -> None:
    """The media process that probes every collected video holds PyAV only: Pillow loads when an image
    is asked for, and asyncio with ssl (6 MiB) never (``reelay.heap`` and ``jobs.postprocess`` stay
    free of it)."""
    from tests.media_helpers import make_video

    video = make_video(tmp_path / "v.mp4", seconds=1.0, width=64, height=64)
    statement = (
        "import asyncio, sys\n"
        "from reelay.procpool import PROBE_STACK, ProcessPool\n"
        "from reelay.jobs.postprocess import probe_output\n"
        "async def main():\n"
        "    pool = ProcessPool(1, preload=PROBE_STACK)\n"
        f"    await pool.run(probe_output, {str(video)!r})\n"
        "    loaded = await pool.run(eval, 'list(__import__(\"sys\").modules)')\n"
        "    pool.shutdown()\n"
        "    print(' '.join(m for m in ('av', 'PIL', 'numpy', 'asyncio', 'ssl') if m in loaded))\n"
        "asyncio.run(main())\n"
    )
    assert run(statement).split() == ["av"]
