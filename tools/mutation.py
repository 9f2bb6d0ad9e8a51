"""Mutation score of the rule-bearing modules: ``python tools/mutation.py [group ...]``.

Runs mutmut (docs/testing.md says why mutmut) on one group of modules at a time, each against the
test files that own its rules, in a scratch copy of the tracked files, so the working tree is never
mutated. Prints killed / survived / timeout / not covered per group and the score over the mutants
the tests reached; ``--survivors`` lists the surviving mutants by name (``mutmut show NAME`` in the
scratch copy prints the diff). The job worker is not a group: it is being rewritten (issue 11) and its
retry timing is pinned by behaviour tests instead (tests/routing/test_retry_timing.py).

It is a measurement, run on demand (minutes per group on two cores), not part of ``.ci/run``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Group:
    """Modules mutated together and the tests that must notice."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]


GROUPS: dict[str, Group] = {
    "normalize": Group(
        ("src/reelay/normalize/*",),
        ("tests/normalize", "tests/catalog/test_catalog_cards.py", "tests/providers/test_local_fit.py"),
    ),
    "routing": Group(
        ("src/reelay/routing/*",),
        ("tests/routing/test_router.py", "tests/routing/test_fallback.py"),
    ),
    "idempotency": Group(("src/reelay/jobs/idempotency.py",), ("tests/security/test_idempotency.py",)),
    "keys": Group(
        ("src/reelay/security/keys.py",),
        ("tests/security/test_api_keys.py", "tests/security/test_isolation_and_limits.py"),
    ),
    "ratelimit": Group(
        ("src/reelay/security/ratelimit.py",),
        ("tests/security/test_isolation_and_limits.py", "tests/scale/test_shared_limits_postgres.py"),
    ),
    "netpolicy": Group(
        ("src/reelay/security/netpolicy.py",),
        ("tests/security/test_netpolicy.py", "tests/security/test_fetch.py"),
    ),
}


def scratch_copy(group: str) -> Path:
    """The tracked files (plus uncommitted edits to them) in a fresh folder outside the tree."""
    target = Path(os.environ.get("TMPDIR", "/tmp")) / f"reelay-mutation-{os.getuid()}" / group
    shutil.rmtree(target, ignore_errors=True)
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def configure(copy: Path, group: Group) -> None:
    """Append mutmut's section to the copy's pyproject.toml: what to mutate and which tests to run."""
    section = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {json.dumps(list(group.modules))}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(list(group.tests))}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
        'also_copy = ["docs", "README.md", "reelay.example.toml", "bench", ".ci"]\n'
    )
    with open(copy / "pyproject.toml", "a") as pyproject:
        pyproject.write(section)


def run_group(name: str, children: int) -> dict[str, int]:
    group = GROUPS[name]
    copy = scratch_copy(name)
    configure(copy, group)
    mutmut = Path(sys.executable).with_name("mutmut")
    subprocess.run([str(mutmut), "run", "--max-children", str(children)], cwd=copy, check=False)
    subprocess.run([str(mutmut), "export-cicd-stats"], cwd=copy, check=True, capture_output=True)
    stats: dict[str, int] = json.loads((copy / "mutants" / "mutmut-cicd-stats.json").read_text())
    return stats


def survivors(name: str) -> list[str]:
    copy = Path(os.environ.get("TMPDIR", "/tmp")) / f"reelay-mutation-{os.getuid()}" / name
    mutmut = Path(sys.executable).with_name("mutmut")
    listed = subprocess.run([str(mutmut), "results"], cwd=copy, capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in listed.splitlines() if line.strip().endswith(": survived")]


def score(stats: dict[str, int]) -> float:
    """Killed (or timed out) over the mutants some test reached: survivors count against it."""
    caught = stats.get("killed", 0) + stats.get("timeout", 0)
    reached = caught + stats.get("survived", 0)
    return 100.0 * caught / reached if reached else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help="default: every group")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    args = parser.parse_args()
    for name in args.groups or list(GROUPS):
        stats = run_group(name, args.children)
        print(
            f"{name}: {score(stats):.1f} % killed ({stats.get('killed', 0)} killed, {stats.get('timeout', 0)} "
            f"timeout, {stats.get('survived', 0)} survived, {stats.get('no_tests', 0)} not covered, "
            f"{stats.get('total', 0)} in all)",
            flush=True,
        )
        if args.survivors:
            for line in survivors(name):
                print("  ", line)


if __name__ == "__main__":
    main()
