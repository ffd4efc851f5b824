"""`kenning scrape`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kenning.cli.common import (
    DbOption,
    JsonOption,
    QuietOption,
    RepoOption,
    VerboseOption,
    embeddings_note,
    open_handle,
    out,
    print_json,
    start_vector_fill,
    warn_grouped,
)

if TYPE_CHECKING:
    from kenning.materialize.engine import RunResult


def scrape_command(
    scrapers: list[str] = typer.Argument(
        None, metavar="SCRAPER", help="Run only these scrapers (git, sessions, code)."
    ),
    until: str = typer.Option(
        None, "--until", metavar="DATE|REV",
        help="Build the project as it stood then, into a database of its own under "
        ".kenning/past/ (unless --db is given; the main database is never rewound): a git "
        "revision (tag, branch, sha), or a date: YYYY, YYYY-MM or YYYY-MM-DD (the end of "
        "it, UTC), an ISO time with offset, or what git reads ('2 weeks ago', 'yesterday': "
        "from the current time). A date picks the last first-parent commit at or before "
        "it; a branch merged later is not in it. `kenning scry --until` reads it.",
    ),
    full: bool = typer.Option(False, "--full", help="Rebuild the eventlog from nothing."),
    sessions: list[str] = typer.Option(
        None, "--sessions", metavar="PATH", help="Session note folder (repeatable). "
        "Default: layer/sessions.",
    ),
    worktree: bool = typer.Option(
        False, "--worktree", help="Also read uncommitted session files (the log is then "
        "not reproducible).",
    ),
    no_materialize: bool = typer.Option(
        False, "--no-materialize", help="Only scrape; leave the derived tables and indexes "
        "stale (run `kenning materialize` later).",
    ),
    no_embed: bool = typer.Option(
        False, "--no-embed", help="Skip the embeddings (slow the first time); scry then "
        "searches lexically until `kenning materialize embeddings` runs.",
    ),
    background: bool = typer.Option(
        True, "--background/--no-background",
        help="With the static-rerank model, make the re-ranking vectors in a background "
        "process after the scrape (otherwise the first questions make their candidates'). "
        "$KENNING_NO_BACKGROUND=1 does the same as --no-background.",
    ),
    workers: int = typer.Option(
        2, "--workers", min=1, metavar="N",
        help="Processes that read a long git history, parse code and parse notes "
        "(the result does not depend on it).",
    ),
    quiet: bool = QuietOption,
    verbose: bool = VerboseOption,
    db: Path = DbOption,
    repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Build or update the eventlog from the repository's history, notes and code.

    Only what changed since the last scrape is read again, so running it after
    every `git pull` is cheap.

    Examples:

    \b
      kenning scrape                  # into .kenning/kenning.db at the repository root
      kenning scrape git              # only the git history
      kenning scrape --no-embed       # everything but the (slow, first time) embeddings
      kenning scrape --until 2024-06-30   # the project as of that day, in .kenning/past/
      kenning scry --until 2024-06-30 "why did we drop the cache"   # ... and asked
    """
    from kenning.cli.progress import progress_for

    started = time.monotonic()
    progress = progress_for(quiet or as_json)
    try:
        with open_handle(repo, db, until=until) as k:
            report = k.scrape(scrapers=scrapers or (), full=full,
                              session_paths=sessions or (), worktree=worktree,
                              materialize=not no_materialize, embed=not no_embed,
                              workers=workers, progress=progress)
            counts = k.status().counts if not report.scrape.unchanged else {}
            filling = start_vector_fill(k, report.materialized, quiet=quiet or as_json
                                        ) if background else None
            path = k.db_path
    finally:
        progress.close()
    result = report.scrape
    seconds = time.monotonic() - started
    if not quiet:
        warn_grouped(result.warnings, verbose=verbose)
    if as_json:
        print_json({"target": result.target, "cutoff": result.cutoff, "added": result.added,
                    "removed": result.removed, "unchanged": result.unchanged,
                    "seconds": round(seconds, 3),
                    "warnings": [{"kind": w.kind, "where": w.where, "message": w.message}
                                 for w in result.warnings],
                    "materialized": [r.as_dict() for r in report.materialized],
                    # a static-rerank database's re-ranking vectors, being made
                    "background": None if filling is None else {
                        "vectors": filling.vectors, "pid": filling.pid}})
        return
    if quiet:
        return
    if result.target is None:
        out.print(f"{path}: empty eventlog")
        return
    where = result.target[:12] + (f" (until {result.cutoff})" if result.cutoff else "")
    if result.unchanged:
        out.print(f"eventlog     unchanged at {where} ({path})")
    else:
        out.print(f"eventlog     +{result.added} -{result.removed} events at {where} "
                  f"({path})")
        for event_type, n in counts.items():
            out.print(f"  {event_type:<20} {n:>8}")
    for run in report.materialized:
        out.print(f"{run.name:<12} {describe_run(run)}")
        if run.name == "embeddings" and run.details:
            out.print(embeddings_note(run.details))
    out.print(f"done in {seconds:.1f}s")


def describe_run(run: RunResult) -> str:
    """One materializer's run in words: what it did, and how long it took."""
    took = f" in {run.seconds:.2f}s" if run.seconds >= 0.005 else ""
    if run.action == "rebuilt":
        return f"rebuilt ({run.reason}): {run.added} events{took}"
    if run.action == "caught up":
        return f"caught up: +{run.added} -{run.removed} events{took}"
    if run.action == "dropped":
        return f"tables dropped ({run.reason})"
    return "already fresh"
