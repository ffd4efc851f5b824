"""Scoring saved answers with semble's rule and printing the tables.

Means follow semble: a repository's figure is the mean over its questions;
"mean" rows are the mean over repositories (semble's `summary.ndcg10`); a
language's figure is the mean over its repositories; a category's figure is
the mean, over the repositories that have the category, of that repository's
mean for it (semble's `by_category`).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bench.semble.data import PUBLISHED, Repo, Task
from bench.semble.scoring import Hit, QueryScore, score

SHORT = {"plain": "plain", "lexical": "lex", "semantic": "sem", "code": "code",
         "code-root": "root", "code-root-lexical": "rootL", "code-root-semantic": "rootS"}


@dataclass(frozen=True)
class Scored:
    task: Task
    score: QueryScore
    results: list[dict[str, Any]]
    seconds: float


def hits_of(results: Sequence[dict[str, Any]]) -> list[Hit]:
    return [Hit(r["kind"], tuple(r.get("paths") or ()), r.get("start_line"), r.get("end_line"))
            for r in results]


def load(out: Path, label: str, repo: Repo, tasks: list[Task]) -> dict[str, list[Scored]]:
    """mode -> scored questions, from OUT/raw/<label>/<repo>.json (empty if absent)."""
    path = out / "raw" / label / f"{repo.name}.json"
    if not path.exists():
        return {}
    raw = json.loads(path.read_text("utf-8"))
    by_query = {t.query: t for t in tasks}
    scored: dict[str, list[Scored]] = {}
    for mode, block in raw["modes"].items():
        rows = []
        for answer in block["answers"]:
            task = by_query.get(answer["query"])
            if task is None:
                continue
            rows.append(Scored(task, score(hits_of(answer["results"]), task.targets),
                               answer["results"], answer["seconds"]))
        scored[mode] = rows
    return scored


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _fmt(value: float | None, width: int = 6) -> str:
    return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"


def _table(stream: TextIO, title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    stream.write(f"\n{title}\n")
    stream.write("  ".join(h.rjust(w) if i else h.ljust(w)
                           for i, (h, w) in enumerate(zip(header, widths, strict=True))) + "\n")
    for row in rows:
        stream.write("  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))) + "\n")


def print_all(repos: list[Repo], tasks: dict[str, list[Task]], labels: list[str],
              modes: list[str], out: Path, published: dict[str, dict[str, float]],
              stream: TextIO) -> None:
    data = {label: {r.name: load(out, label, r, tasks[r.name]) for r in repos}
            for label in labels}
    missing = [r.name for r in repos if not data[labels[0]][r.name]]
    if missing:  # not scraped or not asked (a failed scrape): left out of every mean
        stream.write(f"no answers for {', '.join(missing)}: left out\n")
        repos = [r for r in repos if r.name not in missing]
    columns = [(label, mode) for label in labels for mode in modes]
    partial = [f"{label}:{mode}:{r.name} ({len(rows)} of {len(tasks[r.name])})"
               for label, mode in columns for r in repos
               if 0 < len(rows := data[label][r.name].get(mode, [])) < len(tasks[r.name])]
    if partial:  # a mean over the answered questions alone would pass for the figure
        stream.write(f"answers missing, so no figure for: {', '.join(partial)}\n")

    def head(label: str, mode: str) -> str:
        return SHORT[mode] if len(labels) == 1 else f"{label}:{SHORT[mode]}"

    def repo_value(label: str, mode: str, repo: str, metric: str) -> float | None:
        rows = data[label][repo].get(mode, [])
        if len(rows) < len(tasks[repo]):  # some questions not asked: no figure
            return None
        return _mean([getattr(s.score, metric) for s in rows])

    for metric, title in (("ndcg10", "NDCG@10, semble's chunk rule (a commit or note covers "
                                     "nothing)"),
                          ("file_ndcg10", "NDCG@10, file rule (results -> distinct files; "
                                          "commits stand for the files they touched)"),
                          ("recall10", "Recall@10, chunk rule")):
        rows = []
        for repo in repos:
            row = [f"{repo.name} ({repo.language})", str(len(tasks[repo.name]))]
            row += [_fmt(repo_value(lb, m, repo.name, metric)) for lb, m in columns]
            if metric != "recall10":
                row += [_fmt(published[p].get(repo.name)) for p in PUBLISHED]
            rows.append(row)
        mean = [f"mean of {len(repos)} repositories",
                str(sum(len(tasks[r.name]) for r in repos))]
        for lb, m in columns:
            values = [v for r in repos if (v := repo_value(lb, m, r.name, metric)) is not None]
            mean.append(_fmt(_mean(values)) if len(values) == len(repos) else _fmt(None))
        for p in PUBLISHED if metric != "recall10" else ():
            values = [published[p][r.name] for r in repos if r.name in published[p]]
            mean.append(_fmt(_mean(values)) if len(values) == len(repos) else _fmt(None))
        rows.append(mean)
        published_head = {"ndcg10": [f"pub:{p}" for p in PUBLISHED],
                          "file_ndcg10": [f"(pub:{p})" for p in PUBLISHED]}.get(metric, [])
        _table(stream, title, ["repository", "q", *[head(lb, m) for lb, m in columns],
                               *published_head], rows)

    languages = sorted({r.language for r in repos})
    rows = []
    for language in languages:
        names = [r.name for r in repos if r.language == language]
        row = [language, str(len(names))]
        for lb, m in columns:
            row.append(_fmt(_mean([v for n in names
                                   if (v := repo_value(lb, m, n, "ndcg10")) is not None])))
        row += [_fmt(_mean([published[p][n] for n in names if n in published[p]]))
                for p in PUBLISHED]
        rows.append(row)
    _table(stream, "NDCG@10 by language (mean of its repositories), chunk rule",
           ["language", "repos", *[head(lb, m) for lb, m in columns],
            *[f"pub:{p}" for p in PUBLISHED]], rows)

    categories = sorted({t.category for ts in tasks.values() for t in ts})
    rows = []
    for category in categories:
        n = sum(1 for ts in tasks.values() for t in ts if t.category == category)
        row = [category, str(n)]
        for lb, m in columns:
            per_repo = []
            for r in repos:
                if repo_value(lb, m, r.name, "ndcg10") is None:  # not every question asked
                    continue
                values = [s.score.ndcg10 for s in data[lb][r.name].get(m, [])
                          if s.task.category == category]
                if values:
                    per_repo.append(sum(values) / len(values))
            row.append(_fmt(_mean(per_repo)))
        rows.append(row)
    _table(stream, "NDCG@10 by question category (semble's by_category: mean over repositories "
           "of each one's mean), chunk rule", ["category", "q",
                                              *[head(lb, m) for lb, m in columns]], rows)

    rows = []
    for lb, m in columns:
        all_rows = [s for r in repos for s in data[lb][r.name].get(m, [])]
        if not all_rows:
            continue
        slots = [res["kind"] for s in all_rows for res in s.results[:10]]
        files = [len({res["paths"][0] for res in s.results[:10] if res["kind"] == "code"})
                 for s in all_rows]
        code_slots = [res for s in all_rows for res in s.results[:10] if res["kind"] == "code"]
        tests = sum(1 for res in code_slots if _is_test(res["paths"][0]))
        rows.append([head(lb, m), str(len(all_rows)),
                     *(f"{100 * slots.count(k) / max(1, len(slots)):.0f}%"
                       for k in ("code", "commit", "session")),
                     f"{statistics.mean(files):.1f}",
                     f"{100 * tests / max(1, len(code_slots)):.0f}%",
                     f"{statistics.median(s.seconds for s in all_rows):.2f}"])
    _table(stream, "What fills the top 10 (all questions), and the wall time of one "
           "`kenning scry` from the shell", ["mode", "q", "code", "commit", "session",
                                            "files/q", "tests", "p50 s"], rows)

    if len(labels) > 1:
        base = labels[0]
        rows = []
        for label in labels[1:]:
            for m in modes:
                pairs = [(a.score.ndcg10, b.score.ndcg10) for r in repos
                         for a, b in zip(data[base][r.name].get(m, []),
                                         data[label][r.name].get(m, []), strict=False)]
                if not pairs:
                    continue
                mb = _mean([repo_value(base, m, r.name, "ndcg10") or 0.0 for r in repos]) or 0.0
                mc = _mean([repo_value(label, m, r.name, "ndcg10") or 0.0
                            for r in repos]) or 0.0
                rows.append([f"{label} vs {base}", SHORT[m], _fmt(mb), _fmt(mc),
                             f"{mc - mb:+.3f}", f"{mc / mb:.2f}x" if mb else "-",
                             str(sum(1 for a, b in pairs if b > a + 1e-9)),
                             str(sum(1 for a, b in pairs if b < a - 1e-9))])
        _table(stream, f"Each build against {base}, measured in this run (mean of "
               "repositories, chunk rule)", ["builds", "mode", base, "build", "diff",
                                              "ratio", "better", "worse"], rows)


_TEST_PARTS = ("test", "tests", "spec", "specs", "__tests__", "testdata", "examples", "example",
               "_examples", "benches", "bench", "benchmarks", "fixtures")


def _is_test(path: str) -> bool:
    parts = path.lower().split("/")
    name = parts[-1]
    return (any(p in _TEST_PARTS for p in parts[:-1]) or name.startswith("test_")
            or any(s in name for s in ("_test.", ".test.", ".spec.", "_spec.")))
