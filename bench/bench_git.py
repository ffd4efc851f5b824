"""Git scrape throughput against raw `git log --numstat` in the same run.

    .venv/bin/python -m bench.bench_git /path/to/a/clone [--repeat 3]

Prints, for the same commits: raw `git log --numstat` (git's default: merges
carry no diff), kenning's full git scrape end to end (`kenning scrape git
--full`, a fresh process), the ratio, peak memory of the scrape, a no-op
rescrape, and an incremental scrape of one new commit. Use a real clone
(e.g. ipython/ipython brought with the fetch tool and `git clone`d locally).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Runs kenning and reports the peak RSS of kenning's own process (git's
# processes are git's: the raw baseline would otherwise be counted too).
_PEAK = ("import resource, runpy, sys\n"
         "sys.argv = ['kenning'] + sys.argv[1:]\n"
         "try:\n    runpy.run_module('kenning', run_name='__main__')\n"
         "finally:\n    sys.stderr.write(f'PEAK_KB {resource.getrusage(0).ru_maxrss}\\n')\n")


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and, for kenning, peak RSS in KiB of one child process."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - start
    peaks = [int(line.split()[1]) for line in proc.stderr.splitlines()
             if line.startswith("PEAK_KB ")]
    return seconds, peaks[0] if peaks else 0


def kenning(*args: str) -> list[str]:
    """The git scraper alone, as a user runs it (materializers are benched elsewhere)."""
    return [sys.executable, "-c", _PEAK, "scrape", "git", "--no-materialize", *args]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    repo = args.repo.resolve()
    commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=repo, check=True,
                             capture_output=True, text=True).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="kenning-bench-"))
    db = work / "k.db"
    raw, full, peaks = [], [], []
    for _ in range(args.repeat):
        raw.append(timed(["git", "log", "--numstat", "HEAD"], repo)[0])
        for f in work.glob("k.db*"):
            f.unlink()
        seconds, peak = timed(kenning("--full", "--db", str(db)), repo)
        full.append(seconds)
        peaks.append(peak)
    noop = statistics.median(timed(kenning("--db", str(db)), repo)[0] for _ in range(3))

    # one new commit: scrape a clone at HEAD~1, then move it to HEAD
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(clone)], check=True)
    subprocess.run(["git", "reset", "-q", "--soft", "HEAD~1"], cwd=clone, check=True)
    timed(kenning("--db", str(work / "inc.db")), clone)
    subprocess.run(["git", "reset", "-q", "--soft", "origin/HEAD"], cwd=clone, check=True)
    incremental = timed(kenning("--db", str(work / "inc.db")), clone)[0]

    raw_s, full_s = statistics.median(raw), statistics.median(full)
    print(f"repository             {repo.name}: {commits} commits")
    print(f"raw git log --numstat  {raw_s:7.2f} s")
    print(f"kenning scrape git     {full_s:7.2f} s   ratio {full_s / raw_s:.2f}x (target <= 1.5x)")
    print(f"peak memory (scrape)   {max(peaks) / 1024:7.0f} MB  (kenning's process; "
          "target < 300 MB)")
    print(f"no-op rescrape         {noop:7.2f} s   (target < 0.5 s)")
    print(f"one new commit         {incremental:7.2f} s")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
