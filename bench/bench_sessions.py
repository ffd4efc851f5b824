"""Session scrape throughput on a generated corpus, against markdown-it alone in the same run.

    .venv/bin/python -m bench.bench_sessions [--files 600] [--repeat 3]

Generates FILES session notes (header, front-matter and free-form shapes, 4-12
update blocks each with work, decisions, challenges and patterns), commits
them to a temporary repository, and prints medians of wall time (and of CPU
seconds, this process and its worker processes, as the machine may be shared) of:

- baseline: markdown-it-py's default `parse` (block + inline) of the same texts;
- kenning's parse + events for every file, in process (no git, no database);
- `scrape(..., scrapers=["sessions"])` into a fresh database, end to end
  (git's one commit, the blobs, parsing, events, SQLite) — the figure the
  target (600 files in under 2 s) is about — with the default two worker
  processes and with one;
- a no-op rescrape and a rescrape after one note changed;

and checks that every generated decision came out as an event.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from markdown_it import MarkdownIt

from fixtures.builder import RepoBuilder
from kenning.eventlog import database
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.base import ScrapeOptions
from kenning.scrapers.engine import scrape
from kenning.scrapers.sessions import session_events

WORDS = [
    "parser", "cache", "eventlog", "scraper", "commit", "session", "index", "query", "tag",
    "branch", "merge", "view", "schema", "digest", "offset", "block", "decision", "pattern",
    "challenge", "test", "fixture", "bench", "rebuild", "incremental", "fingerprint", "blob",
    "tree", "history", "author", "file", "symbol", "vector", "lexical",
]


def sentence(rng: random.Random, n: int = 9) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def note(rng: random.Random, n: int) -> tuple[str, str, int]:
    """(file name, text, number of decisions) of one generated session."""
    when = datetime(2024, 1, 1, 8 + n % 10, (n * 7) % 60) + timedelta(days=n)
    hour, minute = when.hour, when.minute
    sid = when.strftime("%Y%m%d-%H%M%S")
    utc = (when + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shape = ("header", "header", "frontmatter", "freeform")[n % 4]
    lines: list[str] = []
    if shape == "frontmatter":
        lines += ["---", "type: session", f"id: {sid}", f"title: {sentence(rng, 4)}",
                  f"created: {utc}",
                  "git:", "  branch: main", f"  start_tag: session-{sid}-start", "---", ""]
    elif shape == "header":
        lines += [f"# Session: {sentence(rng, 4)}", f"**ID**: {sid}",
                  f"**Started**: {utc}",
                  "**Git Branch**: main", f"**Session Tag**: session-{sid}-start", ""]
    else:
        lines += [f"# {sentence(rng, 4)}", ""]
    lines += ["## Previous Session Context", sentence(rng, 30), "", "## Goals"]
    lines += [f"- [{rng.choice(' x')}] {sentence(rng)}" for _ in range(rng.randint(1, 4))]
    lines += ["", "## Activity Log", f"### {hour:02d}:{minute:02d} - Session Start",
              "Session initialized.", ""]
    decisions = 0
    clock = hour * 60 + minute
    for _ in range(rng.randint(4, 12)):
        clock = (clock + rng.randint(10, 50)) % 1440
        lines += [f"### {clock // 60:02d}:{clock % 60:02d} - Update", "", "**Git Activity:**",
                  f"- Commits this session: {rng.randint(1, 9)}", "", "**Work Completed:**", ""]
        for k in range(rng.randint(2, 5)):
            lines += [f"{k + 1}. **{sentence(rng, 4)}**"]
            lines += [f"   - {sentence(rng)}" for _ in range(rng.randint(1, 3))]
        count = rng.randint(1, 3)
        decisions += count
        lines += ["", "**Key Decisions:**", ""]
        for k in range(count):
            lines += [f"{k + 1}. **{sentence(rng, 5)}**", f"   - Reasoning: {sentence(rng)}"]
        lines += ["", "**Challenges Faced:**", ""]
        lines += [f"- {sentence(rng)}" for _ in range(rng.randint(1, 2))]
        lines += ["", "**Patterns Observed:**", ""]
        lines += [f"- {sentence(rng)}" for _ in range(rng.randint(1, 3))]
        lines += [""]
    lines += ["## Session Classification", "- Work Type: pattern-work",
              f"- Files Changed: {rng.randint(1, 20)}", f"- Commits: {rng.randint(1, 9)}", ""]
    name = f"{sid}.md" if shape != "freeform" else f"notes-{n:04d}.md"
    return name, "\n".join(lines), decisions


def cpu_seconds() -> float:
    """User + system time of this process and of its waited-for children (worker pools)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (this process and its workers) of runs."""
    times, cpus = [], []
    for _ in range(repeat):
        cpu = cpu_seconds()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(times), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20240305)
    corpus = [note(rng, n) for n in range(args.files)]
    expected_decisions = sum(d for _, _, d in corpus)
    size = sum(len(text.encode()) for _, text, _ in corpus)

    work = Path(tempfile.mkdtemp(prefix="kenning-bench-sessions-"))
    try:
        builder = RepoBuilder(work / "repo")
        builder.commit("notes", "2024-06-01T12:00:00+00:00",
                       {f"layer/sessions/{name}": text for name, text, _ in corpus})
        repo = GitRepo.discover(builder.path)

        md = MarkdownIt("commonmark")
        baseline = median_time(lambda: [md.parse(t) for _, t, _ in corpus], args.repeat)
        datas = [(f"layer/sessions/{name}", text.encode()) for name, text, _ in corpus]
        in_process = median_time(
            lambda: [session_events(p, d, "2024-06-01T12:00:00Z", {}) for p, d in datas],
            args.repeat)

        dbs = iter(range(2 * args.repeat + 2))

        def fresh_scrape() -> None:
            scrape(repo, work / f"full-{next(dbs)}.db", scrapers=["sessions"])

        end_to_end = median_time(fresh_scrape, args.repeat)

        def fresh_scrape_one_process() -> None:
            scrape(repo, work / f"one-{next(dbs)}.db", scrapers=["sessions"],
                   options=ScrapeOptions(workers=1))

        one_process = median_time(fresh_scrape_one_process, args.repeat)
        db = work / "full-0.db"
        noop = median_time(lambda: scrape(repo, db, scrapers=["sessions"]), args.repeat)
        name, text, _ = corpus[0]
        builder.commit("edit one note", "2024-06-02T12:00:00+00:00",
                       {f"layer/sessions/{name}": text + "\n## Notes\n- one more\n"})
        start = time.perf_counter()
        scrape(repo, db, scrapers=["sessions"])
        one_edit = time.perf_counter() - start

        conn = database.connect(db, write=False)
        got = conn.execute("SELECT count(*) FROM eventlog WHERE event_type = 'session.decision'"
                           ).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM eventlog WHERE event_type LIKE 'session.%'"
                              ).fetchone()[0]
    finally:
        shutil.rmtree(work)

    n = args.files

    def row(label: str, wall_cpu: tuple[float, float], ratio: bool = True, extra: str = "") -> None:
        wall, cpu = wall_cpu
        text = f"{label:<30}{wall:6.2f} s  {n / wall:7.0f} files/s  cpu {cpu:6.2f} s"
        if ratio:
            text += f"  ratio {wall / baseline[0]:.2f}x"
        print(text + extra)

    print(f"corpus                        {n} files, {size / 1e6:.1f} MB, {events} session "
          f"events, decisions {got}/{expected_decisions}")
    row("baseline: markdown-it parse", baseline, ratio=False)
    row("kenning parse + events", in_process)
    row("kenning scrape sessions", end_to_end, extra=f"  (target: {n} files < 2 s)")
    row("  the same, one process", one_process)
    print(f"no-op rescrape                {noop[0]:6.2f} s")
    print(f"rescrape after one edit       {one_edit:6.2f} s")
    if got != expected_decisions:
        raise SystemExit("not every decision was read")


if __name__ == "__main__":
    main()
