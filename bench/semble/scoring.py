"""semble's scoring rule (MinishLab/semble `benchmarks/metrics.py`, `benchmarks/data.py`,
`benchmarks/run_benchmark.py`, `benchmarks/baselines/ck.py`), restated here.

A question has targets: its `relevant` and `secondary` entries together, all of
equal weight (a secondary target counts exactly as much as a relevant one).
A target is a path, or a path with a line span `{path, start_line, end_line}`.

- **Paths match** when they are equal or one ends with "/" + the other (after
  turning backslashes into slashes): semble compares absolute result paths with
  repository-relative targets this way.
- **Chunk rule** (how semble scores itself, `target_rank`): the results are a
  ranked list of chunks, each one file with a line span. A target's rank is the
  rank of the first chunk whose path matches and, when the target has a span,
  whose lines overlap it (`not (end < target.start or start > target.end)`).
  A chunk may cover several targets.
- **File rule** (how semble scores ck and GitNexus, `file_rank`): the results
  are turned into a list of distinct files in order of first appearance, cut to
  10; a target's rank is the rank of the first matching file. Line spans are
  ignored.
- **NDCG@10**: relevance 1 at each rank some target got (a rank covering two
  targets still counts once), DCG = sum of rel / log2(rank + 1), divided by the
  ideal DCG of min(10, number of targets) ones. The number of targets is all
  of them, found or not, and whether or not the tool indexed them (semble's
  current `run_benchmark.py`; an older version counted only indexed targets).
  Targets missing from the repository still count (cobra's `help.go`, chi's
  `middleware/cors.go` and `middleware/redirect.go` do not exist at the pinned
  commits; every tool loses those).
- **Recall@10**: the share of targets with a rank <= 10 (ours; semble prints
  NDCG@5 and NDCG@10 only).
- A repository's figure is the mean over its questions; semble's overall
  figure (`summary.ndcg10`) is the mean over repositories, and its language
  figure the mean over that language's repositories.

How kenning's answers map onto this: every result of `kenning scry --json` is
one slot. A code result is a chunk: its file and its line span (the symbol's
`start_line`-`end_line`, read from the event). A commit or a session item is
not a location in a file: under the chunk rule it covers nothing (it takes a
slot, as it does on the user's screen); under the file rule it stands for the
files it names, in the order `paths` lists them (a commit: the files it
touched), which is the most generous reading of "history points at code".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

K = 10


@dataclass(frozen=True)
class Target:
    path: str
    start_line: int | None = None
    end_line: int | None = None

    @property
    def has_span(self) -> bool:
        return self.start_line is not None and self.end_line is not None


@dataclass(frozen=True)
class Hit:
    """One result slot: the files it stands for and, for a code chunk, its lines."""

    kind: str
    paths: tuple[str, ...]
    start_line: int | None = None
    end_line: int | None = None

    @property
    def is_chunk(self) -> bool:
        return self.kind == "code" and len(self.paths) == 1


def paths_match(file_path: str, target_path: str) -> bool:
    a = file_path.replace("\\", "/")
    b = target_path.replace("\\", "/")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def covers(hit: Hit, target: Target) -> bool:
    """The chunk rule: this slot is a chunk of the target's file overlapping its span."""
    if not hit.is_chunk or not paths_match(hit.paths[0], target.path):
        return False
    if not target.has_span or hit.start_line is None or hit.end_line is None:
        return True  # a chunk without lines stands for the whole file
    assert target.start_line is not None and target.end_line is not None
    return not (hit.end_line < target.start_line or hit.start_line > target.end_line)


def chunk_ranks(hits: Sequence[Hit], targets: Sequence[Target], k: int = K) -> list[int | None]:
    ranks: list[int | None] = []
    for target in targets:
        ranks.append(next((i for i, h in enumerate(hits[:k], 1) if covers(h, target)), None))
    return ranks


def ranked_files(hits: Sequence[Hit], k: int = K) -> list[str]:
    files: dict[str, None] = {}
    for hit in hits:
        for path in hit.paths:
            files.setdefault(path, None)
    return list(files)[:k]


def file_ranks(hits: Sequence[Hit], targets: Sequence[Target], k: int = K) -> list[int | None]:
    files = ranked_files(hits, k)
    return [next((i for i, f in enumerate(files, 1) if paths_match(f, t.path)), None)
            for t in targets]


def dcg(relevances: Sequence[int]) -> float:
    return sum(rel / math.log2(i + 2) for i, rel in enumerate(relevances))


def ndcg(ranks: Sequence[int | None], n_targets: int, k: int = K) -> float:
    if n_targets == 0:
        return 0.0
    relevances = [0] * k
    for rank in ranks:
        if rank is not None and 1 <= rank <= k:
            relevances[rank - 1] = 1
    ideal = dcg([1] * min(k, n_targets))
    return dcg(relevances) / ideal if ideal > 0 else 0.0


def recall(ranks: Sequence[int | None], n_targets: int, k: int = K) -> float:
    if n_targets == 0:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / n_targets


@dataclass(frozen=True)
class QueryScore:
    ndcg10: float
    recall10: float
    file_ndcg10: float
    file_recall10: float
    ranks: tuple[int | None, ...]
    file_ranks: tuple[int | None, ...]


def score(hits: Sequence[Hit], targets: Sequence[Target]) -> QueryScore:
    cr = chunk_ranks(hits, targets)
    fr = file_ranks(hits, targets)
    n = len(targets)
    return QueryScore(ndcg(cr, n), recall(cr, n), ndcg(fr, n), recall(fr, n), tuple(cr),
                      tuple(fr))
