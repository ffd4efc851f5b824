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
    out.print(f"database     {info.db}")
    target = info.target[:12] if info.target else "(nothing scraped)"
    out.print(f"target       {target}" + (f" (until {info.cutoff})" if info.cutoff else ""))
    note = info.as_of.get("note")
    if note:
        out.print(f"             {note}", markup=False)
    if info.last_run:
        run = info.last_run
        out.print(f"last run     {run['finished_at']}: +{run['added']} -{run['removed']} "
                  f"events in {run['seconds']}s (kenning {run['tool_version']})")
    out.print(f"events       {info.events}" + ("" if info.reproducible
                                               else " (not reproducible: --worktree)"))
    for event_type, n in info.counts.items():
        out.print(f"  {event_type:<22} {n:>8}")
    if info.missing_blobs:
        out.print("objects      this clone lacks blobs, so the log depends on which objects "
                  "this clone has: " + ", ".join(f"{k} {n}" for k, n in info.missing_blobs.items()),
                  markup=False)
    for scraper, by_status in info.units.items():
        parts = ", ".join(f"{s} {n}" for s, n in by_status.items())
        out.print(f"units        {scraper}: {parts}", markup=False)
    for name, state in info.materializers.items():
        reason = f": {state['reason']}" if state["reason"] else ""
        out.print(f"{name:<12} {state['state']}{reason}", markup=False)
    if info.rerank.get("missing"):
        doing = ("being made in the background (or waiting for another database's fill)"
                 if info.rerank["filling"] else
                 "each question makes its candidates' (`kenning materialize` starts the "
                 "background fill)")
        out.print(f"re-ranking   {info.rerank['missing']} {info.rerank['model']} vectors not "
                  f"made yet: {doing}", markup=False)
    if info.stale:
        out.print("to catch up: run `kenning scrape`" if note and not info.cutoff
                  else "to catch up: run `kenning materialize`")
    else:
        out.print("everything is up to date")
