"""`kenning scrape`."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from kenning.cli.common import (
    DbOption,
    JsonOption,
    RepoOption,
    db_path,
    find_repo,
    out,
    print_json,
    warn,
)


def scrape_command(
    scrapers: list[str] = typer.Argument(
        None, metavar="[SCRAPER]...", help="Run only these scrapers (git, sessions, code)."
    ),
    until: str = typer.Option(
        None, "--until", metavar="DATE|REV",
        help="Scrape the project as it stood then: YYYY-MM-DD (end of that day, UTC), "
        "an ISO time with offset, or a git revision.",
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
    workers: int = typer.Option(
        2, "--workers", min=1, metavar="N",
        help="Processes that read a long git history, parse code and parse notes "
        "(the result does not depend on it).",
    ),
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
      kenning scrape --until 2024-06-30 --db /tmp/june.db   # the project as of that day
    """
    from kenning.api.pipeline import update
    from kenning.api.status import status
    from kenning.cli.progress import BarProgress

    git_repo = find_repo(repo)
    path = db_path(db, git_repo)
    started = time.monotonic()
    updated = update(git_repo, path, scrapers=scrapers or (), until=until, full=full,
                     session_paths=sessions or (), worktree=worktree,
                     run_materializers=not no_materialize, embed=not no_embed,
                     progress=BarProgress(), workers=workers)
    result = updated.scrape
    seconds = time.monotonic() - started
    for notice in result.warnings:
        warn(str(notice))
    if as_json:
        print_json({"target": result.target, "cutoff": result.cutoff, "added": result.added,
                    "removed": result.removed, "unchanged": result.unchanged,
                    "seconds": round(seconds, 3), "warnings": [str(w) for w in result.warnings],
                    "materialized": [r.as_dict() for r in updated.materialized]})
        return
    if result.target is None:
        out.print(f"{path}: empty eventlog")
        return
    where = result.target[:12] + (f" (until {result.cutoff})" if result.cutoff else "")
    if result.unchanged:
        out.print(f"{path}: already up to date at {where}")
        return
    info = status(git_repo, path)
    rebuilt = [r.name for r in updated.materialized if r.action == "rebuilt"]
    if rebuilt:
        out.print(f"rebuilt {', '.join(rebuilt)}")
    if any(r.name == "embeddings" and r.action in ("rebuilt", "caught up")
           for r in updated.materialized):
        from kenning.materialize.embeddings import last_run_note

        note = last_run_note(path)
        if note:
            out.print(note)
    out.print(f"scraped {where} into {path} in {seconds:.1f}s: "
              f"+{result.added} -{result.removed} events, {info.events} in all")
    for event_type, n in info.counts.items():
        out.print(f"  {event_type:<20} {n:>8}")
