"""`kenning digest`."""

from __future__ import annotations

from pathlib import Path

from kenning.cli.common import DbOption, JsonOption, RepoOption, out, print_json, resolve_db


def digest_command(
    db: Path = DbOption, repo: Path = RepoOption, as_json: bool = JsonOption
) -> None:
    """Print the SHA-256 of the eventlog and the number of events of each type.

    The same commit, scraped with the same options, gives the same digest on any
    machine. Compare it across machines or runs to prove it.

    Example:

      kenning digest --json
    """
    from kenning.eventlog import database
    from kenning.eventlog.digest import digest

    path = resolve_db(db, repo)
    conn = database.connect(path, create=False)
    d = digest(conn)
    reproducible = database.get_meta(conn, "reproducible") != "0"
    if as_json:
        print_json({"sha256": d.sha256, "events": d.total, "counts": d.counts,
                    "format_version": d.format_version, "reproducible": reproducible})
        return
    out.print(d.sha256)
    for event_type, n in d.counts.items():
        out.print(f"  {event_type:<20} {n:>8}")
    out.print(f"  {'total':<20} {d.total:>8}")
    if not reproducible:
        out.print("not reproducible: this log includes uncommitted files (--worktree)")
