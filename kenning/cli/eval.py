"""`kenning eval`: score scry's modes on a query set, or generate one from history."""

from __future__ import annotations

from pathlib import Path

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, out, print_json
from kenning.errors import KenningError


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
    Queries generated from commits exclude their source commit from the results.

    Examples:

      kenning eval generate --from-commits 60 -o bench/queries/kenning.json

      kenning eval bench/queries/kenning.json

      kenning eval bench/queries/kenning.json --mode hybrid --json
    """
    from kenning.cli.scry import _locate, _rrf_k
    from kenning.eventlog import database

    root, db_file = _locate(db, repo)
    conn = database.connect(db_file, create=False)
    if target == "generate":
        if from_commits is None:
            raise KenningError("`kenning eval generate` needs --from-commits N")
        from kenning.scry.evaluate import generate

        queryset = generate(conn, from_commits)
        if output is None:
            print_json(queryset)
        else:
            import json

            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(json.dumps(queryset, indent=2, ensure_ascii=False,
                                         sort_keys=True) + "\n", "utf-8")
            out.print(f"wrote {len(queryset['queries'])} queries to {output}")
        return
    if from_commits is not None or output is not None:
        raise KenningError("--from-commits and --output belong to `kenning eval generate`")

    from kenning.scry.evaluate import evaluate, load_queryset
    from kenning.scry.search import MODES, Searcher

    chosen = tuple(dict.fromkeys(modes)) if modes else MODES
    unknown = [m for m in chosen if m not in MODES]
    if unknown:
        raise KenningError(f"unknown --mode {unknown[0]!r}; choose {', '.join(MODES)}")
    queries = load_queryset(Path(target))
    scores = evaluate(Searcher(conn, rrf_k=_rrf_k(root)), queries, chosen)
    if as_json:
        print_json({"queryset": target, "queries": len(queries),
                    "modes": [s.as_json() for s in scores]})
        return
    out.print(f"{target}: {len(queries)} queries")
    out.print(f"{'mode':<9} {'MRR':>6} {'R@5':>6} {'R@10':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for s in scores:
        out.print(f"{s.mode:<9} {s.mrr:>6.3f} {s.recall_at_5:>6.3f} {s.recall_at_10:>6.3f} "
                  f"{s.p50_ms:>8.1f} {s.p95_ms:>8.1f}")
