"""Mutation score of the rule-bearing modules: ``python tools/mutation.py [group ...]``.

Runs mutmut (docs/testing.md says why mutmut) on one group of modules at a time, each against the
test files that own its rules, in a scratch copy of the tracked files, so the working tree is never
mutated. Prints killed / survived / timeout / not covered per group and the score over the mutants
the tests reached; ``--survivors`` lists the surviving mutants by name (``mutmut show NAME`` in the
scratch copy prints the diff). ``--sample N`` tests a seeded random sample of N mutants per group,
for groups too large to test whole on a busy machine (normalize/ has about 1,600 mutants).

It is a measurement, run on demand (minutes per group on two cores), not part of ``.ci/run``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
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
    "idempotency": Group(
        ("src/reelay/jobs/idempotency.py",),
        ("tests/security/test_idempotency_rules.py", "tests/security/test_idempotency.py"),
    ),
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
    "jobs": Group(  # the job's states and stages, the retry policy, the per-provider submit gate
        ("src/reelay/jobs/retry.py", "src/reelay/jobs/limits.py", "src/reelay/jobs/models.py"),
        ("tests/routing/test_retry_timing.py", "tests/relay/test_provider_limits.py", "tests/jobs/test_store.py"),
    ),
}


def scratch_copy(group: str) -> Path:
    """The tracked files (plus uncommitted edits to them) in a fresh folder outside the tree."""
    target = scratch_dir(group)
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


def scratch_dir(group: str) -> Path:
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"reelay-mutation-{os.getuid()}" / group


def mutmut(copy: Path, *args: str) -> int:
    command = [str(Path(sys.executable).with_name("mutmut")), *args]
    return subprocess.run(command, cwd=copy, check=False).returncode


def outcomes(copy: Path) -> dict[str, str]:
    """Every generated mutant's name → killed | survived | timeout | no tests | not checked | …"""
    from mutmut.stats import status_by_exit_code  # the dev extra has mutmut; keep the tool importable without

    found: dict[str, str] = {}
    for meta in (copy / "mutants").rglob("*.py.meta"):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            found[name] = status_by_exit_code[code]
    return found


def run_group(name: str, children: int, sample: int | None, seed: int, reuse: bool) -> dict[str, str]:
    """Mutate one group and test its mutants (all, or a seeded random sample); their outcomes."""
    copy = scratch_dir(name)
    if not (reuse and (copy / "mutants").is_dir()):
        copy = scratch_copy(name)
        configure(copy, GROUPS[name])
        if sample is not None:  # generate and collect coverage only: the filter matches no mutant
            mutmut(copy, "run", "--max-children", str(children), "no-such-mutant")
    if sample is None:
        mutmut(copy, "run", "--max-children", str(children))
        return outcomes(copy)
    everything = outcomes(copy)
    chosen = sorted(everything)
    if sample < len(chosen):
        chosen = sorted(random.Random(seed).sample(chosen, sample))
    pending = [m for m in chosen if everything[m] == "not checked"]
    if pending:
        mutmut(copy, "run", "--max-children", str(children), *pending)
    everything = outcomes(copy)
    return {m: everything[m] for m in chosen}


def score(results: dict[str, str]) -> float:
    """Killed (or timed out) over the mutants some test ran against: survivors count against it."""
    counts = Counter(results.values())
    caught = counts["killed"] + counts["timeout"]
    reached = caught + counts["survived"]
    return 100.0 * caught / reached if reached else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"default: every group ({', '.join(GROUPS)})")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--sample", type=int, help="test a random sample of this many mutants per group")
    parser.add_argument("--seed", type=int, default=15, help="the sample's seed (default 15)")
    parser.add_argument("--reuse", action="store_true", help="continue in the last scratch copy of the group")
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    args = parser.parse_args()
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}; choose from {', '.join(GROUPS)}")
    for name in args.groups or list(GROUPS):
        results = run_group(name, args.children, args.sample, args.seed, args.reuse)
        counts = Counter(results.values())
        print(
            f"{name}: {score(results):.1f} % killed ({counts['killed']} killed, {counts['timeout']} timeout, "
            f"{counts['survived']} survived, {counts['no tests']} not covered by the group's tests, "
            f"{len(results)} mutants tested"
            + (f", a sample (seed {args.seed})" if args.sample else "")
            + f"); scratch copy {scratch_dir(name)}",
            flush=True,
        )
        if args.survivors:
            for mutant in sorted(m for m, outcome in results.items() if outcome == "survived"):
                print("   survived:", mutant)


if __name__ == "__main__":
    main()
