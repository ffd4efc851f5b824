"""`kenning eval`: score scry's modes on a query set, or generate one from history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, open_handle, out, print_json
from kenning.errors import KenningError

if TYPE_CHECKING:
    from kenning.api.handle import Kenning


def eval_command(
    target: str = typer.Argument(..., metavar="QUERYSET.json|generate",
                                 help="A query set to score, or `generate` to write one."),
    from_commits: int = typer.Option(
        None, "--from-commits", metavar="N",
        help="generate: take N commits (subject = query, changed files = relevant).",
    ),
    output: Path = typer.Option(None, "--output", "-o", metavar="FILE",
                                help="generate: write the query set here (default: stdout)."),
    modes: list[str] = typer.Option(None, "--mode", metavar="MODE",
                                    help="Only these modes (repeatable). Default: all three."),
    db: Path = DbOption,
    repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Measure retrieval: MRR, Recall@5, Recall@10 and latency p50/p95 per mode.

    A result counts as relevant when one of its file paths is a relevant path.
    A query's `source_commit` and `exclude_sources` are left out of its results,
    with every merge that brings such a commit in. Hybrid's MRR is compared with
    each single mode's, with a paired bootstrap 95% interval (fixed seed).

    Examples:

      kenning eval generate --from-commits 60 -o bench/queries/kenning.json

      kenning eval bench/queries/kenning.json

      kenning eval bench/queries/kenning.json --mode hybrid --json
    """
    with open_handle(repo, db) as k:
        if target == "generate":
            _generate(k, from_commits, output)
        else:
            _score(k, Path(target), modes, from_commits, output, as_json)


def _generate(k: Kenning, from_commits: int | None, output: Path | None) -> None:
    if from_commits is None:
        raise KenningError("`kenning eval generate` needs --from-commits N")
    queryset = k.generate_queries(from_commits)
    if output is None:
        print_json(queryset)
        return
    import json

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(queryset, indent=2, ensure_ascii=False, sort_keys=True)
                      + "\n", "utf-8")
    out.print(f"wrote {len(queryset['queries'])} queries to {output}")


def _score(k: Kenning, target: Path, modes: list[str] | None, from_commits: int | None,
           output: Path | None, as_json: bool) -> None:
    if from_commits is not None or output is not None:
        raise KenningError("--from-commits and --output belong to `kenning eval generate`")
    from kenning.scry.evaluate import comparisons

    queries, scores = k.evaluate(target, modes or ())
    differences = comparisons(scores)
    if as_json:
        print_json({"queryset": str(target), "queries": len(queries),
                    "modes": [s.as_json() for s in scores],
                    "differences": [d.as_json() for d in differences]})
        return
    out.print(f"{target}: {len(queries)} queries")
    out.print(f"{'mode':<9} {'MRR':>6} {'R@5':>6} {'R@10':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for s in scores:
        out.print(f"{s.mode:<9} {s.mrr:>6.3f} {s.recall_at_5:>6.3f} {s.recall_at_10:>6.3f} "
                  f"{s.p50_ms:>8.1f} {s.p95_ms:>8.1f}")
    for d in differences:
        out.print(f"MRR {d.b} - {d.a}: {d.difference:+.3f}, 95% bootstrap interval "
                  f"[{d.low:+.3f}, {d.high:+.3f}] ({d.resamples:,} paired resamples, seed "
                  f"{d.seed}); {d.b} better on {d.better} queries, worse on {d.worse}")
