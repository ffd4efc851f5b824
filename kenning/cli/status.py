"""`kenning status`."""

from __future__ import annotations

from pathlib import Path

from kenning.cli.common import DbOption, JsonOption, RepoOption, open_handle, out, print_json


def status_command(
    db: Path = DbOption, repo: Path = RepoOption, as_json: bool = JsonOption
) -> None:
    """Show what is scraped (target commit, counts, when) and what is out of date.

    Example:

      kenning status --json
    """
    with open_handle(repo, db) as k:  # a --db outside any repository: no staleness
        info = k.status()
    if as_json:
        print_json(info.as_dict())
        return
    out.print(f"database   {info.db}")
    out.print(f"target     {info.target or '(nothing scraped)'}"
              + (f" (until {info.cutoff})" if info.cutoff else ""))
    if info.last_run:
        run = info.last_run
        out.print(f"last run   {run['finished_at']}: +{run['added']} -{run['removed']} events "
                  f"in {run['seconds']}s (kenning {run['tool_version']})")
    out.print(f"events     {info.events}" + ("" if info.reproducible
                                             else " (not reproducible: --worktree)"))
    for event_type, n in info.counts.items():
        out.print(f"  {event_type:<20} {n:>8}")
    for scraper, by_status in info.units.items():
        parts = ", ".join(f"{s} {n}" for s, n in by_status.items())
        out.print(f"units      {scraper}: {parts}")
    for name, state in info.materializers.items():
        out.print(f"{state['state']:<10} {name}" + (f": {state['reason']}" if state["reason"]
                                                      and state["state"] != "stale" else ""))
    for line in info.stale:
        out.print(f"[yellow]stale[/]      {line}", markup=True)
    if not info.stale:
        out.print("fresh      everything is up to date")
