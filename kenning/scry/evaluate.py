"""`kenning eval`: retrieval quality and latency of each scry mode on a query set.

A query set is `{"queries": [{"id", "query", "relevant_docs": [paths]}]}`; an
entry may also carry `exclude_sources` (sources, e.g. commit shas, left out of
its results: a generated query must find the code, not the commit it was
written from). A result is relevant when one of its paths is a relevant path.

- MRR: mean over queries of 1 / rank of the first relevant result in the top
  10 (0 when there is none).
- Recall@k: mean over queries of the share of relevant paths that the paths
  of the top-k results cover.
- Latency: wall time of each search in this process, after one warm-up query
  per mode (the model and vectors are loaded once, as in `kenning serve`-like
  use; the cold start from the shell is measured in bench/bench_scry.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw

from kenning.errors import KenningError
from kenning.eventlog import reader
from kenning.scry.filters import Filters
from kenning.scry.search import MODES, Searcher

DEPTH = 10
MAX_FILES = 20


@dataclass(frozen=True)
class Query:
    id: str
    query: str
    relevant: tuple[str, ...]
    exclude_sources: tuple[str, ...] = ()


@dataclass
class ModeScore:
    mode: str
    queries: int
    mrr: float
    recall_at_5: float
    recall_at_10: float
    p50_ms: float
    p95_ms: float

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "queries": self.queries, "mrr": round(self.mrr, 4),
                "recall@5": round(self.recall_at_5, 4), "recall@10": round(self.recall_at_10, 4),
                "latency_p50_ms": round(self.p50_ms, 2), "latency_p95_ms": round(self.p95_ms, 2)}


def load_queryset(path: Path) -> list[Query]:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise KenningError(f"cannot read the query set {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KenningError(f"{path} is not a JSON query set: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("queries"), list):
        raise KenningError(f'{path}: expected {{"queries": [{{"id", "query", '
                           '"relevant_docs": [paths]}]}')
    queries = []
    for n, entry in enumerate(raw["queries"]):
        if (not isinstance(entry, dict) or not isinstance(entry.get("query"), str)
                or not entry["query"].strip()
                or not isinstance(entry.get("relevant_docs"), list)
                or not all(isinstance(p, str) for p in entry["relevant_docs"])):
            raise KenningError(f"{path}: query {n + 1} needs a non-empty \"query\" and a "
                               "\"relevant_docs\" list of paths")
        queries.append(Query(str(entry.get("id", n + 1)), entry["query"],
                             tuple(entry["relevant_docs"]),
                             tuple(str(s) for s in entry.get("exclude_sources", []))))
    if not queries:
        raise KenningError(f"{path}: the query set has no queries")
    return queries


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = q * (len(ordered) - 1)
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def score_results(result_paths: list[list[str]], relevant: tuple[str, ...]
                  ) -> tuple[float, float, float]:
    """(reciprocal rank, recall@5, recall@10) of one ranked list of path lists."""
    wanted = set(relevant)
    rr = 0.0
    for rank, paths in enumerate(result_paths[:DEPTH], 1):
        if wanted.intersection(paths):
            rr = 1.0 / rank
            break

    def recall(k: int) -> float:
        if not wanted:
            return 0.0
        covered = set().union(*map(set, result_paths[:k])) if result_paths[:k] else set()
        return len(wanted & covered) / len(wanted)

    return rr, recall(5), recall(10)


def evaluate(searcher: Searcher, queries: list[Query],
             modes: tuple[str, ...] = MODES) -> list[ModeScore]:
    scores = []
    for mode in modes:
        searcher.search(queries[0].query, mode=mode, limit=DEPTH)  # warm-up: load once
        rrs, r5s, r10s, times = [], [], [], []
        for q in queries:
            started = time.perf_counter()
            answer = searcher.search(q.query, mode=mode, limit=DEPTH,
                                     filters=Filters(exclude_sources=q.exclude_sources))
            times.append((time.perf_counter() - started) * 1000)
            if answer.mode != mode:
                raise KenningError(f"{mode} search is not possible here: {answer.notes[0]}")
            rr, r5, r10 = score_results([r.paths for r in answer.results], q.relevant)
            rrs.append(rr)
            r5s.append(r5)
            r10s.append(r10)
        n = len(queries)
        scores.append(ModeScore(mode, n, sum(rrs) / n, sum(r5s) / n, sum(r10s) / n,
                                _percentile(times, 0.5), _percentile(times, 0.95)))
    return scores


def generate(conn: apsw.Connection, count: int) -> dict[str, Any]:
    """A query set from `count` commits spread evenly over the history: query = subject,
    relevant = the files it changed. Merges and commits over 20 files are skipped."""
    if count < 1:
        raise KenningError("--from-commits needs a number of commits, at least 1")
    candidates = []
    for event in reader.events(conn, ("git.commit",)):
        sha, ts, payload = event.source_id, event.timestamp, event.data
        subject = str(payload.get("subject") or "").strip()
        files = sorted({f["path"] for f in payload.get("files") or []})
        if payload.get("is_merge") or not subject or not files or len(files) > MAX_FILES:
            continue
        candidates.append((sha, ts, subject, files))
    if not candidates:
        raise KenningError("no usable commits in the database (need non-merge commits with "
                           f"1 to {MAX_FILES} files); run `kenning scrape` first")
    if count >= len(candidates):
        chosen = candidates
    else:  # evenly spread, oldest to newest, the same choice every time
        step = len(candidates) / count
        chosen = [candidates[int(i * step + step / 2)] for i in range(count)]
    return {"queries": [
        {"id": sha[:12], "query": subject, "relevant_docs": files, "exclude_sources": [sha],
         "time": ts}
        for sha, ts, subject, files in chosen]}
