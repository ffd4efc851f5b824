"""`kenning eval`: retrieval quality and latency of each scry mode on a query set.

A query set is `{"queries": [{"id", "query", "relevant_docs": [paths]}]}`; an
entry may also carry `source_commit` (the commit it was written from) and
`exclude_sources` (sources, e.g. commit shas, left out of its results): a query
made from a commit must find the code, not the commit it was written from.
Every excluded commit (full sha or a prefix of at least 7 hex digits) takes
with it the merges that bring it in -- a merge whose merged side (ancestors of
a non-first parent that are not ancestors of the first parent) contains it --
because a merge's message (a pull request's title and body) restates the
commit's subject. A result is relevant when one of its paths is a relevant path,
or the name a relevant path took later: for a query written from a commit (its
source commit, or else the first commit it excludes), the renames in the commits
after it are followed, since the search shows each file under the name it has now.

- MRR: mean over queries of 1 / rank of the first relevant result in the top
  10 (0 when there is none).
- Recall@k: mean over queries of the share of relevant paths that the paths
  of the top-k results cover.
- Latency: wall time of each search in this process, after one warm-up query
  per mode (the model and vectors are loaded once, as in `kenning serve`-like
  use; the cold start from the shell is measured in bench/bench_scry.py).
- The difference between two modes' MRR comes with a paired bootstrap 95%
  interval: the queries are resampled with replacement (10,000 times, a fixed
  seed, so the same scores always give the same interval) and the interval is
  the 2.5th to 97.5th percentile of the resampled mean differences.
"""

from __future__ import annotations

import json
import random
import re
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping
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
RESAMPLES = 10_000
SEED = 0
_COMMIT_ID = re.compile(r"[0-9a-f]{7,40}")


@dataclass(frozen=True)
class Query:
    id: str
    query: str
    relevant: tuple[str, ...]
    exclude_sources: tuple[str, ...] = ()
    source_commit: str | None = None

    def excluded(self) -> tuple[str, ...]:
        """Every source the query names as its own: its source commit and exclusions."""
        named = (self.source_commit,) if self.source_commit else ()
        return tuple(dict.fromkeys(named + self.exclude_sources))


@dataclass
class ModeScore:
    mode: str
    queries: int
    mrr: float
    recall_at_5: float
    recall_at_10: float
    p50_ms: float
    p95_ms: float
    reciprocal_ranks: tuple[float, ...] = ()  # per query, in query-set order

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
        excluded = entry.get("exclude_sources", [])
        source = entry.get("source_commit")
        if (not isinstance(excluded, list) or not all(isinstance(x, str) for x in excluded)
                or not (source is None or isinstance(source, str) and source.strip())):
            raise KenningError(f"{path}: query {n + 1}: \"source_commit\" must be a commit "
                               "sha and \"exclude_sources\" a list of sources")
        queries.append(Query(str(entry.get("id", n + 1)), entry["query"],
                             tuple(entry["relevant_docs"]), tuple(excluded),
                             source.strip() if source else None))
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


def score_results(result_paths: list[list[str]], relevant: tuple[str, ...],
                  renamed: Mapping[str, str] | None = None) -> tuple[float, float, float]:
    """(reciprocal rank, recall@5, recall@10) of one ranked list of path lists; a path in
    `renamed` (a later name) counts as the relevant path it maps to."""
    wanted = set(relevant)
    if renamed:
        result_paths = [[renamed.get(p, p) for p in paths] for paths in result_paths]
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
    hidden = excluded_sources(searcher.conn, queries)
    renamed = later_names(searcher.conn, queries)
    scores = []
    for mode in modes:
        searcher.search(queries[0].query, mode=mode, limit=DEPTH)  # warm-up: load once
        rrs, r5s, r10s, times = [], [], [], []
        for q, exclude, names in zip(queries, hidden, renamed, strict=True):
            started = time.perf_counter()
            answer = searcher.search(q.query, mode=mode, limit=DEPTH,
                                     filters=Filters(exclude_sources=exclude))
            times.append((time.perf_counter() - started) * 1000)
            if answer.mode != mode:
                raise KenningError(f"{mode} search is not possible here: {answer.notes[0]}")
            rr, r5, r10 = score_results([r.paths for r in answer.results], q.relevant, names)
            rrs.append(rr)
            r5s.append(r5)
            r10s.append(r10)
        n = len(queries)
        scores.append(ModeScore(mode, n, sum(rrs) / n, sum(r5s) / n, sum(r10s) / n,
                                _percentile(times, 0.5), _percentile(times, 0.95), tuple(rrs)))
    return scores


# -- what a query must not find ---------------------------------------------------


def excluded_sources(conn: apsw.Connection, queries: list[Query]) -> list[tuple[str, ...]]:
    """Per query: its own sources, each excluded commit written out in full and followed
    by the merges that bring it in."""
    graph = CommitGraph.load(conn)
    return [tuple(dict.fromkeys(s for source in q.excluded()
                                for s in graph.with_merges(source)))
            for q in queries]


def later_names(conn: apsw.Connection, queries: list[Query]) -> list[dict[str, str]]:
    """Per query written from a commit (its `source_commit`, or else the first commit its
    `exclude_sources` hide, as older generated sets name it): the names its relevant
    paths took in the commits after it (each rename followed in commit order), mapped
    to the path they stand for."""
    graph = CommitGraph.load(conn)
    try:
        renames = [(str(r[0]), str(r[1]), str(r[2])) for r in conn.execute(
            "SELECT sha, old_path, path FROM commit_files WHERE old_path IS NOT NULL "
            "AND old_path != path ORDER BY timestamp, sha, path")]
    except apsw.SQLError:  # no views: nothing is known about renames
        renames = []
    out: list[dict[str, str]] = []
    for q in queries:
        # the commit it was written from: its source commit, else the first commit it hides
        source = next((sha for sha in map(graph.resolve, q.excluded()) if sha), None)
        later = graph.descendants(source) - {source} if source and renames else set()
        names = {}
        for path in q.relevant:
            current = path
            for sha, old, new in renames:
                if sha in later and old == current:
                    current = new
            if current != path:
                names[current] = path
        out.append(names)
    return out


class CommitGraph:
    """Commits and their parents, from the `commits` view."""

    def __init__(self, parents: dict[str, list[str]]) -> None:
        self.parents = parents
        self.shas = sorted(parents)
        self.children: dict[str, list[str]] = {}
        for sha, ps in parents.items():
            for p in ps:
                self.children.setdefault(p, []).append(sha)

    @classmethod
    def load(cls, conn: apsw.Connection) -> CommitGraph:
        try:
            rows = conn.execute("SELECT sha, parents FROM commits").fetchall()
        except apsw.SQLError:  # no views (a bare search index): no history to consult
            rows = []
        return cls({str(sha): list(json.loads(parents)) for sha, parents in rows})

    def resolve(self, source: str) -> str | None:
        """The full sha of a commit id (or unambiguous prefix), else None."""
        if not _COMMIT_ID.fullmatch(source):
            return None
        at = bisect_left(self.shas, source)
        found = [s for s in self.shas[at:at + 2] if s.startswith(source)]
        return found[0] if len(found) == 1 else None

    def with_merges(self, source: str) -> list[str]:
        """`source` (a commit written out in full) and the merges that bring it in."""
        sha = self.resolve(source)
        if sha is None:
            return [source]
        return [sha, *self.merges_bringing(sha)]

    def merges_bringing(self, sha: str) -> list[str]:
        """Merges whose merged side holds `sha`: a non-first parent descends from (or is)
        it and the first parent does not."""
        below = self.descendants(sha)
        return sorted(m for m in below if m != sha and len(self.parents.get(m, ())) > 1
                      and self.parents[m][0] not in below
                      and any(p in below for p in self.parents[m][1:]))

    def descendants(self, sha: str) -> set[str]:
        seen = {sha}
        stack = [sha]
        while stack:
            for child in self.children.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen


# -- comparing two modes ----------------------------------------------------------


@dataclass(frozen=True)
class MrrDifference:
    """MRR of mode `b` minus MRR of mode `a` over the same queries, with a paired
    bootstrap interval."""

    a: str
    b: str
    difference: float
    low: float
    high: float
    better: int  # queries where b ranks the first relevant result higher
    worse: int
    resamples: int = RESAMPLES
    seed: int = SEED
    level: float = 0.95

    def as_json(self) -> dict[str, Any]:
        return {"modes": f"{self.b} - {self.a}", "mrr_difference": round(self.difference, 4),
                "interval": [round(self.low, 4), round(self.high, 4)], "level": self.level,
                "resamples": self.resamples, "seed": self.seed,
                "better": self.better, "worse": self.worse}

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_bootstrap(a: Iterable[float], b: Iterable[float], *, resamples: int = RESAMPLES,
                     seed: int = SEED, level: float = 0.95) -> tuple[float, float, float]:
    """(mean of b - a, low, high): a percentile interval of the mean paired difference."""
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    if not diffs:
        raise KenningError("no queries to compare")
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    tail = (1 - level) / 2
    low = means[int(tail * resamples)]
    high = means[min(resamples - 1, int((1 - tail) * resamples))]
    return sum(diffs) / n, low, high


def compare(scores: list[ModeScore], a: str, b: str) -> MrrDifference:
    by_mode = {s.mode: s for s in scores}
    ra, rb = by_mode[a].reciprocal_ranks, by_mode[b].reciprocal_ranks
    difference, low, high = paired_bootstrap(ra, rb)
    return MrrDifference(a, b, difference, low, high,
                         better=sum(1 for x, y in zip(ra, rb, strict=True) if y > x),
                         worse=sum(1 for x, y in zip(ra, rb, strict=True) if y < x))


def comparisons(scores: list[ModeScore]) -> list[MrrDifference]:
    """Hybrid against each single mode that was scored (the fusion must earn its cost)."""
    modes = [s.mode for s in scores]
    if "hybrid" not in modes:
        return []
    return [compare(scores, other, "hybrid") for other in ("lexical", "semantic")
            if other in modes]


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
    graph = CommitGraph.load(conn)
    return {"queries": [
        {"id": sha[:12], "query": subject, "relevant_docs": files, "source_commit": sha,
         "exclude_sources": graph.with_merges(sha), "time": ts}
        for sha, ts, subject, files in chosen]}
