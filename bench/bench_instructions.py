"""Instructions code extraction adds to tree-sitter, counted by cachegrind (deterministic).

    .venv/bin/python bench/bench_instructions.py [REPO] [--every 12]

Wall times on a shared 2-core machine drift by several percent within a
minute, so a 1-2% change in extract.py cannot be seen with a stopwatch. This
runs the same fixed subset of REPO's Python files (every Nth at HEAD) twice
under `valgrind --tool=cachegrind`: once through the bare parse + query, once
through `extract`, and prints both instruction counts and the difference,
which is what our Python costs. Needs valgrind; takes about 20 s.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path


def _count(mode: str, subset: Path) -> int:
    run = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, __file__, "--run", mode, str(subset)],
        capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{run.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def _run(mode: str, subset: Path) -> None:
    from kenning.scrapers.code import extract as ex

    files = pickle.loads(subset.read_bytes())
    ex.compiled("python")  # the query compiles in both modes
    gc.disable()
    work = ex.extract if mode == "extract" else ex.parse_and_query
    for language, data in files:
        work(language, data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo", nargs="?", default="/tmp/sqlalchemy")
    parser.add_argument("--every", type=int, default=12)
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)  # (mode, subset): internal
    args = parser.parse_args()
    if args.run:
        _run(args.run[0], Path(args.run[1]))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_code import _files

    from kenning.repository.gitrepo import GitRepo

    repo = GitRepo.discover(Path(args.repo))
    files = _files(repo, repo.head() or "", {"python"})[::args.every]
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "subset.pkl"
        subset.write_bytes(pickle.dumps([(language, data) for _, language, data in files]))
        bare, extract = _count("bare", subset), _count("extract", subset)
    size = sum(len(data) for _, _, data in files) / 1e6
    print(f"subset   every {args.every}th Python file of {args.repo}: {len(files)} files, "
          f"{size:.1f} MB")
    print(f"bare parse + query  {bare:>15,} instructions")
    print(f"extract             {extract:>15,} instructions")
    print(f"extraction's own    {extract - bare:>15,} instructions "
          f"({(extract - bare) / bare:.2f}x the bare work, start-up included in both)")


if __name__ == "__main__":
    main()
