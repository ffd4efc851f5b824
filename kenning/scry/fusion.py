"""Reciprocal-rank fusion: score(d) = sum over arms of 1 / (k + rank_arm(d))."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_RRF_K = 60


def rrf(arms: Mapping[str, Sequence[tuple[int, float]]],
        k: float = DEFAULT_RRF_K) -> list[tuple[int, float, dict[str, tuple[int, float]]]]:
    """Fuse ranked lists of (doc_id, score): (doc_id, fused score, {arm: (rank, score)}).

    Ranks start at 1. Ties in the fused score keep a fixed order (doc_id), so
    the same inputs always give the same list.
    """
    fused: dict[int, float] = {}
    seen: dict[int, dict[str, tuple[int, float]]] = {}
    for arm, ranked in arms.items():
        for rank, (doc_id, score) in enumerate(ranked, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (k + rank)
            seen.setdefault(doc_id, {})[arm] = (rank, score)
    order = sorted(fused, key=lambda d: (-fused[d], d))
    return [(d, fused[d], seen[d]) for d in order]
