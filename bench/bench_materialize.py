"""Materialization against reading the log: full rebuild and one-commit catch-up.

    .venv/bin/python bench/bench_materialize.py [--mirror /work/.mirror/ipython+ipython/repo]

Clones the (bare) mirror into bench/.work/, scrapes it without materializing,
then times, in one run:
  - reading the log once (`SELECT data FROM eventlog`, and with json decoding),
  - a full rebuild of every enabled materializer (embeddings off: the model's
    throughput is measured by its own benchmark), each one separately,
  - incremental materialization after one new commit (target < 0.3 s), 3 times.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kenning.api.handle import Kenning  # noqa: E402
from kenning.eventlog import database  # noqa: E402
from kenning.materialize.engine import materialize  # noqa: E402
from kenning.recipes import Recipe, default_recipe  # noqa: E402
from kenning.repository.gitrepo import GitRepo  # noqa: E402

WORK = Path(__file__).resolve().parent / ".work"
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def clone(mirror: Path) -> Path:
    name = mirror.parent.name.replace("+", "-")
    target = WORK / name
    if not target.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", str(mirror), str(target)], check=True, env=GIT_ENV)
    return target


def bench_recipe() -> Recipe:
    values = copy.deepcopy(default_recipe().values)
    values["materialize"]["embeddings"]["enabled"] = False
    return Recipe.from_values("<bench recipe>", values)


def read_log(db: Path) -> tuple[float, float, int]:
    conn = database.connect(db, write=False)
    started = time.perf_counter()
    rows = conn.execute("SELECT data FROM eventlog").fetchall()
    raw = time.perf_counter() - started
    started = time.perf_counter()
    for (data,) in conn.execute("SELECT data FROM eventlog"):
        json.loads(data)
    decoded = time.perf_counter() - started
    conn.close()
    return raw, decoded, len(rows)


def new_commit(repo: Path, i: int) -> None:
    files = sorted(p for p in git(repo, "ls-files").splitlines() if p.endswith(".py"))[:2]
    for path in files:
        with open(repo / path, "a", encoding="utf-8") as f:
            f.write(f"\n# bench change {i}\n")
    git(repo, "commit", "-q", "-a", "-m", f"Bench change {i}: touch {' '.join(files)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror/ipython+ipython/repo"))
    parser.add_argument("--scrapers", default="git,sessions,code")
    args = parser.parse_args()
    repo_dir = clone(args.mirror)
    db = WORK / f"{repo_dir.name}.db"
    recipe = bench_recipe()
    repo = GitRepo.discover(repo_dir)
    scrapers = tuple(args.scrapers.split(","))
    git(repo_dir, "reset", "-q", "--hard", "origin/HEAD")

    started = time.perf_counter()
    Kenning(repo, db, recipe).scrape(scrapers=scrapers, full=True, materialize=False)
    scrape_seconds = time.perf_counter() - started
    raw, decoded, events = read_log(db)
    conn = database.connect(db, write=False)
    counts = dict(conn.execute("SELECT event_type, count(*) FROM eventlog GROUP BY 1"))
    conn.close()

    started = time.perf_counter()
    full = materialize(db, recipe, rebuild=True)
    full_seconds = time.perf_counter() - started

    incremental, per_name = [], []
    for i in range(3):
        new_commit(repo_dir, i)
        Kenning(repo, db, recipe).scrape(scrapers=scrapers, materialize=False)
        started = time.perf_counter()
        results = materialize(db, recipe)
        incremental.append(time.perf_counter() - started)
        per_name.append({r.name: (r.action, round(r.seconds, 3)) for r in results})
    git(repo_dir, "reset", "-q", "--hard", "origin/HEAD")

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"repository: {args.mirror} ({counts.get('git.commit', 0)} commits), "
          f"scrapers {','.join(scrapers)}; {events} events "
          f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
    print(f"scrape (--full, no materialize):     {scrape_seconds:8.2f} s")
    print(f"read the log once (SELECT data):     {raw:8.3f} s")
    print(f"  ... and json.loads every row:      {decoded:8.3f} s")
    print(f"full materialization (rebuild all):  {full_seconds:8.2f} s  "
          f"= {full_seconds / raw:.1f}x the raw read, "
          f"{full_seconds / decoded:.1f}x the decoded read")
    for r in full:  # each one's own time; reading and decoding the log once is shared
        print(f"  {r.name:<12} {r.seconds:8.2f} s  ({r.added} events)")
    median = statistics.median(incremental)
    print(f"incremental after one new commit:    {median:8.3f} s median of "
          f"{', '.join(f'{t:.3f}' for t in incremental)} (target < 0.3 s)")
    for name, (action, seconds) in per_name[-1].items():
        print(f"  {name:<12} {action:<10} {seconds:.3f} s")


if __name__ == "__main__":
    main()
