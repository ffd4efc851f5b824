"""Why `kenning scry` misses: a per-question failure analysis of saved benchmark answers.

    .venv/bin/python -m bench.semble.analyze --data /work/bench-data/semble \
        [--out /work/bench-data/results] [--label kenning] [--mode plain] [--list]

For every question whose first relevant target is not first in the answer
(semble's chunk rule, bench/semble/scoring.py), each cause that applies is
flagged, and the first one in this order is counted as the main one:

1. not-indexed: no code document covers the target (its file has no function
   or type, or none overlaps the target's line span);
2. history-slots: commits or session items sit in the top 10, and the same
   question asked with `--type code` does better;
3. sibling: a result above the target is a file of the same name elsewhere
   (zod's v3/errors.ts for v4/core/errors.ts, libuv's src/win/ for src/unix/);
4. tests-examples: a test, example, benchmark or vendored file is above it;
5. one-file-many-slots: one other file holds three or more of the top 10;
6. file-name: the question names the target file's stem and it is still not
   first (file names are not searchable);
7. other-lines: the target is a line span and other chunks of its file are above;
8. other: none of these (the words or the vector just rank something else).

It also prints how much of each repository's parsed source lines the code
documents cover (only function and type definitions are indexed today).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import apsw

from bench.semble.data import Repo, Task, load_repos, load_tasks
from bench.semble.report import SHORT, Scored, _is_test, load
from bench.semble.scoring import Hit, Target, covers, paths_match

CAUSES = ("not-indexed", "history-slots", "sibling", "tests-examples", "one-file-many-slots",
          "file-name", "other-lines", "other")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOP_WORDS = """a an and are as at be by do does for from has have how if in is it not of on or
the to was what when where which who why with"""
_STOP = frozenset(_STOP_WORDS.split())
VENDORED = ("vendor/", "third_party/", "third-party/", "deps/", "node_modules/")


class CodeIndex:
    """The code documents of one database: line spans per file."""

    def __init__(self, db: Path) -> None:
        conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.parsed: set[str] = set()
        for path, etype, data in conn.execute(
                "SELECT source_file, event_type, data FROM eventlog "
                "WHERE event_type LIKE 'code.%' AND source_file IS NOT NULL"):
            self.parsed.add(path)
            if etype in ("code.function", "code.type", "code.constant", "code.chunk"):
                d = json.loads(data)
                start = d.get("start_line") or d.get("line") or 0
                self.spans.setdefault(path, []).append((start, d.get("end_line") or start))
        conn.close()

    def covers(self, target: Target) -> bool:
        for path, spans in self.spans.items():
            if not paths_match(path, target.path):
                continue
            if not target.has_span or any(covers(Hit("code", (path,), s, e), target)
                                          for s, e in spans):
                return True
        return False

    def line_coverage(self, repo_dir: Path, root: str | None) -> tuple[int, int]:
        """(lines inside a function or type, lines) over the parsed files under root."""
        covered = total = 0
        for path in sorted(self.parsed):
            if root and not path.startswith(root.rstrip("/") + "/"):
                continue
            try:
                lines = (repo_dir / path).read_text("utf-8", errors="replace").count("\n") + 1
            except OSError:
                continue
            marked: set[int] = set()
            for s, e in self.spans.get(path, []):
                marked.update(range(max(1, s), min(lines, e) + 1))
            covered += len(marked)
            total += lines
        return covered, total


def stem_words(path: str) -> set[str]:
    stem = Path(path).name.split(".")[0]
    parts = {p.lower() for chunk in re.split(r"[_\-]", stem) for p in _CAMEL.findall(chunk)}
    return parts | {stem.lower()}


def query_words(query: str) -> set[str]:
    words = set()
    for w in _WORD.findall(query):
        words.add(w.lower())
        words.update(p.lower() for p in _CAMEL.findall(w))
    return words - _STOP


def first_rank(results: list[dict[str, Any]], target: Target) -> int | None:
    for i, r in enumerate(results[:10], 1):
        hit = Hit(r["kind"], tuple(r.get("paths") or ()), r.get("start_line"), r.get("end_line"))
        if covers(hit, target):
            return i
    return None


def causes_of(s: Scored, code_mode: Scored | None, index: CodeIndex) -> list[str]:
    target = s.task.targets[0]
    rank = first_rank(s.results, target)
    above = s.results[: (rank - 1 if rank else 10)]
    found: list[str] = []
    if not index.covers(target):
        found.append("not-indexed")
    if any(r["kind"] != "code" for r in s.results[:10]) and code_mode is not None:
        code_rank = first_rank(code_mode.results, target)
        if code_rank is not None and (rank is None or code_rank < rank):
            found.append("history-slots")
    name = Path(target.path).name
    if any(r["kind"] == "code" and Path(r["paths"][0]).name == name
           and not paths_match(r["paths"][0], target.path) for r in above):
        found.append("sibling")
    if any(r["kind"] == "code" and (_is_test(r["paths"][0])
                                    or any(v in r["paths"][0] for v in VENDORED))
           for r in above):
        found.append("tests-examples")
    files = Counter(r["paths"][0] for r in s.results[:10] if r["kind"] == "code")
    if any(n >= 3 and not paths_match(f, target.path) for f, n in files.items()):
        found.append("one-file-many-slots")
    if stem_words(target.path) & query_words(s.task.query):
        found.append("file-name")
    if target.has_span and any(r["kind"] == "code" and paths_match(r["paths"][0], target.path)
                               for r in above):
        found.append("other-lines")
    return found or ["other"]


def analyze(repos: list[Repo], tasks: dict[str, list[Task]], args: argparse.Namespace) -> None:
    main: Counter[str] = Counter()
    any_cause: Counter[str] = Counter()
    names_stem = names_stem_not_first = misses = late = total = 0
    lines: list[str] = []
    for repo in repos:
        data = load(args.out, args.label, repo, tasks[repo.name])
        rows = data.get(args.mode, [])
        code_rows = {s.task.query: s for s in data.get("code", [])}
        if not rows:
            continue
        # the database of the build that answered (its id is in the saved answers)
        build_id = json.loads((args.out / "raw" / args.label / f"{repo.name}.json")
                              .read_text("utf-8"))["kenning"]
        index = CodeIndex(args.repos_dir / repo.name / ".kenning" / f"bench-{build_id}.db")
        covered, all_lines = index.line_coverage(args.repos_dir / repo.name, repo.benchmark_root)
        print(f"{repo.name:<12} code documents cover {covered:>6} of {all_lines:>6} parsed lines"
              f" under {repo.benchmark_root or '.'} ({100 * covered / max(1, all_lines):.0f}%); "
              f"files with no definition: "
              f"{sum(1 for p in index.parsed if p not in index.spans)} of {len(index.parsed)}")
        for s in rows:
            total += 1
            target = s.task.targets[0]
            rank = first_rank(s.results, target)
            named = bool(stem_words(target.path) & query_words(s.task.query))
            names_stem += named
            names_stem_not_first += named and rank != 1
            if rank == 1:
                continue
            misses += rank is None
            late += rank is not None
            found = causes_of(s, code_rows.get(s.task.query), index)
            main[found[0]] += 1
            any_cause.update(found)
            top = ", ".join(f"{r['kind']}:{(r.get('paths') or ['-'])[0]}"
                            for r in s.results[:3])
            lines.append(f"  {repo.name:<10} rank {rank or '-':>2}  {','.join(found):<40} "
                         f"{s.task.query!r} -> {target.path}  top: {top}")
    print(f"\n{args.label}, mode {args.mode} ({SHORT[args.mode]}): {total} questions; first "
          f"target not first in {misses + late} ({misses} not in the top 10, {late} at 2-10)")
    print(f"questions naming the target file's stem: {names_stem}; of them not first: "
          f"{names_stem_not_first}")
    print(f"{'cause':<22} {'main':>5} {'any':>5}")
    for cause in CAUSES:
        print(f"{cause:<22} {main[cause]:>5} {any_cause[cause]:>5}")
    if args.list:
        print("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, default=Path("/work/bench-data/results"))
    p.add_argument("--repos-dir", type=Path, default=Path("/work/bench-data/repos"))
    p.add_argument("--label", default="kenning")
    p.add_argument("--mode", default="plain", choices=list(SHORT))
    p.add_argument("--repo", action="append", default=[])
    p.add_argument("--list", action="store_true", help="list every question that misses")
    args = p.parse_args(argv)
    repos = [r for r in load_repos(args.data) if not args.repo or r.name in args.repo]
    analyze(repos, {r.name: load_tasks(args.data, r) for r in repos}, args)


if __name__ == "__main__":
    main()
