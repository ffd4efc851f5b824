"""`kenning materialize`."""

from __future__ import annotations

from pathlib import Path

import typer

from kenning.cli.common import (
    DbOption,
    JsonOption,
    QuietOption,
    RepoOption,
    embeddings_note,
    open_handle,
    out,
    print_json,
    start_vector_fill,
)


def materialize_command(
    names: list[str] = typer.Argument(
        None, metavar="NAME",
        help="Only these materializers (views, fts, co_changes, ...). Default: every enabled one.",
    ),
    rebuild: bool = typer.Option(False, "--rebuild",
                                 help="Rebuild from the whole eventlog instead of catching up."),
    quiet: bool = QuietOption,
    db: Path = DbOption,
    repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Build or update the tables and indexes derived from the eventlog.

    `kenning scrape` already does this after scraping; run it alone after a
    recipe change, or with --rebuild to start a materializer over.

    Examples:

      kenning materialize                 # catch up every enabled materializer

      kenning materialize fts --rebuild   # rebuild the full-text index from the log
    """
    from kenning.cli.progress import progress_for

    progress = progress_for(quiet or as_json)
    try:
        with open_handle(repo, db) as k:
            results = k.materialize(names or (), rebuild=rebuild, progress=progress)
            # here even when nothing changed: it restarts a fill that was stopped
            start_vector_fill(k, results, quiet=quiet or as_json, only_after_change=False)
            source = k.recipe.source
    finally:
        progress.close()
    if as_json:
        print_json({"recipe": source, "materializers": [r.as_dict() for r in results]})
        return
    if quiet:
        return
    from kenning.cli.scrape import describe_run

    for r in results:
        out.print(f"{r.name:<12} {describe_run(r)}")
        if r.name == "embeddings" and r.details:
            out.print(embeddings_note(r.details))
