"""`kenning digest`."""

from __future__ import annotations

from pathlib import Path

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, open_handle, out, print_json


def digest_command(
    db: Path = DbOption, repo: Path = RepoOption, as_json: bool = JsonOption,
    all_tables: bool = typer.Option(
        False, "--all", help="Also one digest per materialized table (views, fts, "
        "co_changes, expertise, signals, embeddings)."),
    write: Path = typer.Option(
        None, "--write", metavar="FILE", help="Write the digest to FILE (with --all, the "
        "tables' digests too), for a later --check."),
    check: Path = typer.Option(
        None, "--check", metavar="FILE", help="Compare with a digest FILE; exit 1 with the "
        "counts and the first differing event when they differ."),
) -> None:
    """Print the SHA-256 of the eventlog and the number of events of each type.

    The same commit, scraped with the same options, gives the same digest on any
    machine. Compare it across machines or runs to prove it.

    Examples:

      kenning digest --json

      kenning digest --all                     # every materialized table too

      kenning digest --all --write digest.json # on one machine ...

      kenning digest --check digest.json       # ... and on another: exit 1 if different
    """
    with open_handle(repo, db) as k:
        if check is not None:
            report = k.check_digest(check)
        else:
            if write is not None:
                k.write_digest(write, tables=all_tables)
            result = k.digest(tables=all_tables)
    if check is not None:
        if as_json:
            print_json({"ok": report.ok, "differences": report.lines})
        elif report.ok:
            out.print(f"ok: the database matches {check}")
        else:
            out.print(f"DIFFERENT from {check}:")
            for line in report.lines:
                out.print(line, markup=False)
        if not report.ok:
            raise typer.Exit(1)
        return
    d, table_digests, reproducible = result.digest, result.tables, result.reproducible
    if as_json:
        value = {"sha256": d.sha256, "events": d.total, "counts": d.counts,
                 "format_version": d.format_version, "reproducible": reproducible,
                 "complete": result.complete}
        if all_tables:
            value["tables"] = {t.table: {"materializer": t.materializer, "rows": t.rows,
                                         "sha256": t.sha256} for t in table_digests}
        print_json(value)
        return
    out.print(d.sha256)
    for event_type, n in d.counts.items():
        out.print(f"  {event_type:<20} {n:>8}")
    out.print(f"  {'total':<20} {d.total:>8}")
    for t in table_digests:
        out.print(f"{t.sha256}  {t.table:<22} {t.rows:>8} rows  ({t.materializer})")
    if not reproducible:
        out.print("not reproducible: this log includes uncommitted files (--worktree)")
    if not result.complete:
        out.print("incomplete: this clone lacks blobs, so the log depends on which objects "
                  "this clone has (a full clone's digest differs)")
