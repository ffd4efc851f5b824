"""`kenning scrape`."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, db_path, find_repo, out
from kenning.cli.common import print_json, warn


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
    db: Path = DbOption,
    repo: Path = RepoOption,
    as_json: bool = JsonOption,
) -> None:
    """Build or update the eventlog from the repository's history, notes and code.

    Only what changed since the last scrape is read again, so running it after
    every `git pull` is cheap.

    Examples:

      kenning scrape                      # .kenning/kenning.db at the repository root

      kenning scrape git                  # only the git history

      kenning scrape --until 2024-06-30 --db /tmp/june.db   # the project as of that day
    """
    from kenning.cli.progress import BarProgress
    from kenning.scrape import scrape
    from kenning.scrapers.base import ScrapeOptions
    from kenning.status import status

    git_repo = find_repo(repo)
    path = db_path(db, git_repo)
    options = ScrapeOptions(worktree=worktree)
    if sessions:
        options = ScrapeOptions(session_paths=tuple(sessions), worktree=worktree)
    started = time.monotonic()
    result = scrape(git_repo, path, scrapers=scrapers or (), until=until, full=full,
                    options=options, progress=BarProgress())
    seconds = time.monotonic() - started
    for message in result.warnings:
        warn(message)
    if as_json:
        print_json({"target": result.target, "cutoff": result.cutoff, "added": result.added,
                    "removed": result.removed, "unchanged": result.unchanged,
                    "seconds": round(seconds, 3), "warnings": result.warnings})
        return
    if result.target is None:
        out.print(f"{path}: empty eventlog")
        return
    where = result.target[:12] + (f" (until {result.cutoff})" if result.cutoff else "")
    if result.unchanged:
        out.print(f"{path}: already up to date at {where}")
        return
    info = status(git_repo, path)
    out.print(f"scraped {where} into {path} in {seconds:.1f}s: "
              f"+{result.added} -{result.removed} events, {info.events} in all")
    for event_type, n in info.counts.items():
        out.print(f"  {event_type:<20} {n:>8}")
