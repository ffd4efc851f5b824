"""Run MinishLab/semble's code-search benchmark against `kenning scry`, as a user would.

    .venv/bin/python -m bench.semble.run --data /work/bench-data/semble \
        [--repos-dir /work/bench-data/repos] [--mirrors /work/.mirror] \
        [--out /work/bench-data/results] [--repo NAME ...] [--mode MODE ...] \
        [--kenning LABEL=PATH/TO/bin/kenning ...]

The data (kept out of this repository): semble's `benchmarks/repos.json`, the
`benchmarks/annotations/<repo>.json` files and the published results
`benchmarks/results/*.json` of github.com/MinishLab/semble. Here they are read
with the search tool's `read_file` (repo `MinishLab/semble`; the repository
cannot be fetched whole) and written to DATA/repos.json, DATA/annotations/ and
DATA/results/ (the results trimmed to tool, repository, language, mode and
ndcg10; see bench/semble/data.py). The published figures used are
`semble-hybrid-a772a37d558c.json` (semble, 0.854 over its repositories),
`semble-ablations-a772a37d558c.json` mode `unranked-bm25` (raw BM25),
`ck-2e3d2dd2cf8e.json` and `gitnexus-906319556a46.json`.

For each repository in DATA/repos.json: the `fetch` tool's mirror
MIRRORS/<owner>+<name>/repo is cloned into REPOS-DIR/<name> and checked out at
the pinned commit (bench/semble/checkout.py; missing blobs get stubs), then for
each kenning build (`--kenning LABEL=EXECUTABLE`, repeatable; the first is the
baseline, by default this checkout's `.venv/bin/kenning`):
1. `kenning scrape` with embeddings into the build's own database,
   `.kenning/bench-<build id>.db` (the id hashes the build's kenning package), skipped
   when that build already scraped that commit and `kenning status` shows nothing
   stale;
2. every question through `kenning scry QUERY --json [flags]`, one subprocess
   per question, from the repository's directory, in each mode of
   bench/semble/kenning_cli.py MODES (plain `kenning scry`; `--mode lexical`;
   `--mode semantic`; `--type code`; `--type code --path <benchmark_root>` in
   each search mode). Answers are saved per build and repository under
   OUT/raw/<label>/<repo>.json (kept and reused while the build, commit,
   questions and flags are the same, even when the database had to be scraped
   again: a build scrapes a commit to the same eventlog every time), so later
   runs compare query by query.
Then it scores them with semble's rule (bench/semble/scoring.py) and prints
tables per repository, language and question category next to semble's
published per-repository figures for semble, raw BM25, ck and GitNexus, and,
with two or more builds, each build's difference from the first.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.semble import report
from bench.semble.checkout import checkout
from bench.semble.data import Repo, Task, load_published, load_repos, load_tasks
from bench.semble.kenning_cli import (
    MODES,
    Kenning,
    ScrapeFailed,
    identify,
    is_current,
    mode_flags,
    scrape,
    scry,
)

ROOT = Path(__file__).resolve().parents[2]
RESULT_KEYS = ("kind", "event_type", "paths", "source", "title", "score", "event_id")


def mirror_of(repo: Repo, mirrors: Path) -> Path:
    owner, name = repo.url.removesuffix(".git").split("/")[-2:]
    return mirrors / f"{owner}+{name}" / "repo"


def code_spans(db: Path, event_ids: list[str]) -> dict[str, tuple[int | None, int | None]]:
    """(start_line, end_line) of code events, read from the eventlog."""
    import apsw

    if not event_ids:
        return {}
    conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
    spans: dict[str, tuple[int | None, int | None]] = {}
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start:start + 500]
        for event_id, data in conn.execute(
                f"SELECT event_id, data FROM eventlog WHERE event_id IN "
                f"({','.join('?' * len(chunk))})", chunk):
            d = json.loads(data)
            line = d.get("start_line") or d.get("line")
            spans[event_id] = (line, d.get("end_line") or line)
    conn.close()
    return spans


def ask(build: Kenning, repo: Repo, repo_dir: Path, tasks: list[Task],
        modes: list[str], previous: dict[str, Any]) -> dict[str, Any]:
    db = build.db
    answers: dict[str, Any] = {}
    asked: dict[tuple[str, ...], Any] = {}
    for mode in modes:
        flags = mode_flags(mode, repo.benchmark_root)
        old = previous.get(mode)
        if old and old["flags"] == list(flags) and [a["query"] for a in old["answers"]] == [
                t.query for t in tasks]:
            answers[mode] = old
            continue
        if flags in asked:  # e.g. `--type code --path` without a benchmark root
            answers[mode] = asked[flags]
            continue
        rows: list[dict[str, Any]] = []
        results: list[list[dict[str, Any]]] = []
        seconds: list[float] = []
        for task in tasks:
            answer, took = scry(build, repo_dir, db, task.query, flags)
            kept = [{k: r.get(k) for k in RESULT_KEYS} for r in answer.get("results", [])]
            results.append(kept)
            seconds.append(took)
            rows.append({"query": task.query, "category": task.category,
                         "seconds": round(took, 3), "error": answer.get("error"),
                         "results": kept})
        code_ids = sorted({r["event_id"] for rs in results for r in rs if r["kind"] == "code"})
        spans = code_spans(repo_dir / db, code_ids)
        for r in (r for rs in results for r in rs if r["kind"] == "code"):
            r["start_line"], r["end_line"] = spans.get(r["event_id"], (None, None))
        answers[mode] = asked[flags] = {"flags": list(flags), "answers": rows}
        print(f"    {mode:<20} {len(rows)} questions, {sum(seconds) / len(rows):.2f} s each",
              flush=True)
    return answers


def run_repo(repo: Repo, builds: list[Kenning], args: argparse.Namespace) -> None:
    repo_dir = args.repos_dir / repo.name
    stubs = checkout(mirror_of(repo, args.mirrors), repo_dir, repo.revision)
    tasks = load_tasks(args.data, repo)
    print(f"{repo.name} ({repo.language}, {len(tasks)} questions, {repo.revision[:12]}"
          + (f", {stubs} missing blobs stubbed" if stubs else "") + ")", flush=True)
    for build in builds:
        db = build.db
        raw_path = args.out / "raw" / build.label / f"{repo.name}.json"
        previous: dict[str, Any] = {}
        if raw_path.exists():
            old = json.loads(raw_path.read_text("utf-8"))
            if old.get("revision") == repo.revision and old.get("kenning") == build.source_id:
                previous = old.get("modes", {})
        scrape_seconds = None
        if not is_current(build, repo_dir, db, repo.revision):
            print(f"  {build.label}: kenning scrape ...", flush=True)
            try:
                scrape_seconds = scrape(build, repo_dir, db, repo.revision, args.out / "logs"
                                        / f"{repo.name}-{build.label}-scrape.log")
            except ScrapeFailed as exc:  # reported and left out, the other repositories go on
                print(f"  {build.label}: kenning scrape failed, {repo.name} left out: {exc}",
                      flush=True)
                return
            print(f"  {build.label}: scraped in {scrape_seconds:.0f} s", flush=True)
        if args.scrape_only:
            continue
        modes = ask(build, repo, repo_dir, tasks, args.modes, previous)
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        raw_path.write_text(json.dumps(
            {"repo": repo.name, "language": repo.language, "revision": repo.revision,
             "benchmark_root": repo.benchmark_root, "label": build.label,
             "kenning": build.source_id, "kenning_executable": str(build.executable),
             "asked_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "modes": modes},
            indent=1, ensure_ascii=False) + "\n", "utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="semble's benchmark files")
    p.add_argument("--repos-dir", type=Path, default=Path("/work/bench-data/repos"))
    p.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    p.add_argument("--out", type=Path, default=Path("/work/bench-data/results"))
    p.add_argument("--repo", action="append", default=[], help="only these repositories")
    p.add_argument("--mode", dest="modes", action="append", choices=list(MODES), default=[])
    p.add_argument("--kenning", action="append", default=[], metavar="LABEL=EXECUTABLE",
                   help="a kenning build to measure (repeatable; the first is the baseline)")
    p.add_argument("--scrape-only", action="store_true", help="check out and scrape only")
    p.add_argument("--report-only", action="store_true",
                   help="print the tables from the saved answers")
    args = p.parse_args(argv)
    args.modes = args.modes or list(MODES)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    repos = [r for r in load_repos(args.data) if not args.repo or r.name in args.repo]
    specs = args.kenning or [f"kenning={ROOT / '.venv' / 'bin' / 'kenning'}"]
    labels = [s.split("=", 1)[0] for s in specs]
    if not args.report_only:
        builds = [identify(label, Path(path).resolve())
                  for label, path in (s.split("=", 1) for s in specs)]
        for repo in repos:
            run_repo(repo, builds, args)
        if args.scrape_only:
            return
    tasks = {r.name: load_tasks(args.data, r) for r in repos}
    report.print_all(repos, tasks, labels, args.modes, args.out, load_published(args.data),
                     sys.stdout)


if __name__ == "__main__":
    main()
