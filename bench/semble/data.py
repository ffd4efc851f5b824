"""The benchmark's inputs, read from a local copy of semble's `benchmarks/` files.

    DATA/repos.json                 semble's repos.json entries: name, language, url,
                                    revision, benchmark_root (null: the whole repository)
    DATA/annotations/<name>.json    [{query, relevant[], secondary[], category}, ...]
    DATA/results/*.json             semble's published results, one file per tool:
                                    {"tool", "source", "summary": {"ndcg10"},
                                     "repos": [{"repo", "language", "ndcg10", "mode"?}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.semble.scoring import Target

# The published columns shown next to kenning: label -> (tool, mode or None)
PUBLISHED = {
    "semble": ("semble-hybrid", None),
    "BM25": ("semble-ablations", "unranked-bm25"),
    "ck": ("ck", None),
    "GitNexus": ("gitnexus", None),
}


@dataclass(frozen=True)
class Repo:
    name: str
    language: str
    url: str
    revision: str
    benchmark_root: str | None


@dataclass(frozen=True)
class Task:
    repo: str
    language: str
    query: str
    targets: tuple[Target, ...]  # relevant + secondary, as semble counts them
    category: str


def load_repos(data: Path) -> list[Repo]:
    raw = json.loads((data / "repos.json").read_text("utf-8"))
    return [Repo(r["name"], r["language"], r["url"], r["revision"], r.get("benchmark_root"))
            for r in raw]


def _target(raw: str | dict[str, Any]) -> Target:
    if isinstance(raw, str):
        return Target(raw)
    start, end = raw.get("start_line"), raw.get("end_line")
    return Target(str(raw["path"]), int(start) if start is not None else None,
                  int(end) if end is not None else None)


def infer_category(query: str) -> str:
    """semble's fallback when an annotation has no category."""
    if " " not in query.strip():
        return "symbol"
    return "architecture" if query.lower().startswith("how ") else "semantic"


def load_tasks(data: Path, repo: Repo) -> list[Task]:
    raw = json.loads((data / "annotations" / f"{repo.name}.json").read_text("utf-8"))
    tasks = []
    for item in raw:
        targets = tuple(_target(t) for t in [*item.get("relevant", []),
                                             *item.get("secondary", [])])
        category = item.get("category")
        tasks.append(Task(repo.name, repo.language, item["query"], targets,
                          category if isinstance(category, str)
                          else infer_category(item["query"])))
    return tasks


def load_published(data: Path) -> dict[str, dict[str, float]]:
    """label -> repository -> published NDCG@10 (labels of PUBLISHED)."""
    out: dict[str, dict[str, float]] = {label: {} for label in PUBLISHED}
    folder = data / "results"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    for path in files:
        doc = json.loads(path.read_text("utf-8"))
        for label, (tool, mode) in PUBLISHED.items():
            if doc.get("tool") != tool:
                continue
            for row in doc.get("repos", []):
                if mode is None or row.get("mode") == mode:
                    out[label][row["repo"]] = float(row["ndcg10"])
    return out
