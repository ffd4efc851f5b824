"""Reciprocal-rank fusion: score(d) = sum over arms of 1 / (k + rank_arm(d))."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kenning.params import Params, param


@dataclass(frozen=True)
class ScryParams(Params):
    """The recipe's `[scry]` table."""

    rrf_k: float = param(60.0, "reciprocal-rank fusion constant of hybrid search", above=0)


DEFAULT_RRF_K = ScryParams().rrf_k


def rrf(arms: Mapping[str, Sequence[tuple[int, float]]], k: float = DEFAULT_RRF_K,
        key: Callable[[int], Any] | None = None,
        ) -> list[tuple[int, float, dict[str, tuple[int, float]]]]:
    """Fuse ranked lists of (doc_id, score): (doc_id, fused score, {arm: (rank, score)}).

    Ranks start at 1. Equal fused scores are frequent (rank 1 in one arm and absent
    from the other, or ranks 1 and 2 against 2 and 1); they are ordered by `key(doc_id)`
    (scry passes the event id, a content hash, so an incremental build and a rebuild
    agree), or by doc_id without one. Each sum is exactly rounded (`math.fsum`), so
    the same ranks give the same score whatever the order of the arms.
    """
    parts: dict[int, list[float]] = {}
    seen: dict[int, dict[str, tuple[int, float]]] = {}
    for arm, ranked in arms.items():
        for rank, (doc_id, score) in enumerate(ranked, start=1):
            parts.setdefault(doc_id, []).append(1.0 / (k + rank))
            seen.setdefault(doc_id, {})[arm] = (rank, score)
    fused = {d: math.fsum(p) for d, p in parts.items()}
    tie = key if key is not None else (lambda d: d)
    order = sorted(fused, key=lambda d: (-fused[d], tie(d)))
    return [(d, fused[d], seen[d]) for d in order]


def tied_ranks(ranked: Sequence[tuple[int, float]]) -> list[tuple[int, int, float]]:
    """(doc_id, rank, score) of a best-first list, equal scores sharing the better rank
    (1, 2, 2, 4): two documents an arm cannot tell apart fuse to the same score, and
    content (path, event id) orders them, not the order the arm happened to list them."""
    out: list[tuple[int, int, float]] = []
    for i, (doc_id, score) in enumerate(ranked, 1):
        r = out[-1][1] if out and out[-1][2] == score else i
        out.append((doc_id, r, score))
    return out
