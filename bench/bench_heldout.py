"""Commit-derived questions under three exclusion policies, in one run.

    PYTHONPATH=. .venv/bin/python -m bench.bench_heldout QUERIES.json [--db DB]

`kenning eval` hides a question's own commit and the merges that bring it in
(kenning/scry/evaluate.py). To show what each part of that rule is worth, this
scores the same questions, modes and database three ways: nothing hidden (the
commit answers its own subject), only the source commit hidden (the rule
before merges were added), and the commit with its merges hidden (what
`kenning eval` reports). Each line: MRR and Recall@10 per mode, and the paired
bootstrap 95% interval of hybrid - lexical. A last line gives the ceiling of choosing
modes: every question answered by the mode that ranks it best.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from kenning.eventlog import database
from kenning.scry.evaluate import (
    CommitGraph,
    ModeScore,
    Query,
    compare,
    excluded_sources,
    later_names,
    load_queryset,
    paired_bootstrap,
    score_results,
)
from kenning.scry.filters import Filters
from kenning.scry.search import MODES, Searcher


def score(searcher: Searcher, queries: list[Query],
          hidden: list[tuple[str, ...]]) -> list[ModeScore]:
    renamed = later_names(searcher.conn, queries)  # files renamed since count, as in eval
    scores = []
    for mode in MODES:
        rrs, r10s = [], []
        for q, exclude, names in zip(queries, hidden, renamed, strict=True):
            answer = searcher.search(q.query, mode=mode, limit=10,
                                     filters=Filters(exclude_sources=exclude))
            rr, _, r10 = score_results([r.paths for r in answer.results], q.relevant, names)
            rrs.append(rr)
            r10s.append(r10)
        n = len(queries)
        scores.append(ModeScore(mode, n, sum(rrs) / n, 0.0, sum(r10s) / n, 0.0, 0.0, tuple(rrs)))
    return scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("queries", type=Path)
    p.add_argument("--db", type=Path, default=Path(".kenning/kenning.db"))
    args = p.parse_args()
    conn = database.connect(args.db, write=False)
    searcher = Searcher(conn)
    queries = load_queryset(args.queries)
    graph = CommitGraph.load(conn)
    # a generated set also lists the merges in exclude_sources: keep its source commit only
    own: Callable[[Query], tuple[str, ...]] = lambda q: tuple(  # noqa: E731
        (graph.resolve(s) or s)
        for s in ((q.source_commit,) if q.source_commit else q.exclude_sources))
    policies: list[tuple[str, list[tuple[str, ...]]]] = [
        ("nothing hidden", [() for _ in queries]),
        ("source commit hidden", [own(q) for q in queries]),
        ("commit and its merges hidden", excluded_sources(conn, queries)),
    ]
    merged = sum(1 for q in queries if any(len(graph.with_merges(s)) > 1 for s in q.excluded()))
    print(f"{args.queries}: {len(queries)} questions, {merged} brought in by a merge")
    for name, hidden in policies:
        scores = score(searcher, queries, hidden)
        d = compare(scores, "lexical", "hybrid")
        cells = "  ".join(f"{s.mode} {s.mrr:.3f}/{s.recall_at_10:.3f}" for s in scores)
        print(f"  {name:<29} MRR/R@10  {cells}  hybrid-lexical {d.difference:+.3f} "
              f"[{d.low:+.3f}, {d.high:+.3f}]")
    # the ceiling of choosing a mode: each question answered by whichever mode ranks it
    # best (an oracle no router can beat; fusion can, only where it ranks a file above
    # where either arm does)
    by_mode = {s.mode: s.reciprocal_ranks for s in scores}
    best = [max(ranks) for ranks in zip(*by_mode.values(), strict=True)]
    gain, low, high = paired_bootstrap(by_mode["lexical"], best)
    above = sum(1 for h, lx, sm in zip(by_mode["hybrid"], by_mode["lexical"], by_mode["semantic"],
                                     strict=True) if h > max(lx, sm))
    print(f"  best mode per question        MRR {sum(best) / len(best):.3f}  best-lexical "
          f"{gain:+.3f} [{low:+.3f}, {high:+.3f}]; hybrid above both arms on {above} questions")


if __name__ == "__main__":
    main()
