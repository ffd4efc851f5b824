"""`kenning verify`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, open_handle, out, print_json


def verify_command(
    db: Path = DbOption, repo: Path = RepoOption, as_json: bool = JsonOption,
    all_tables: bool = typer.Option(
        False, "--all", help="Also run every built materializer in the rebuild and compare "
        "each materialized table, naming the first differing row."),
) -> None:
    """Rebuild the eventlog in a temporary database and compare it with the stored one.

    Exits 1 and shows the first differing event when they differ. Put it in CI
    to prove that a commit always yields the same eventlog.

    Examples:

      kenning scrape && kenning verify

      kenning scrape && kenning verify --all   # the materialized tables too
    """
    with open_handle(repo, db) as k:
        result = k.verify(tables=all_tables)
    diff = result.difference
    if as_json:
        print_json({"ok": result.ok, "stored": result.stored, "rebuilt": result.rebuilt,
                    "first_difference": None if diff is None else {
                        "seq": diff.seq,
                        "stored": diff.ours.canonical() if diff.ours else None,
                        "rebuilt": diff.theirs.canonical() if diff.theirs else None},
                    "tables": {t.table: _table_json(t) for t in result.tables}})
    elif result.ok:
        out.print(f"ok: the rebuilt eventlog is identical ({result.stored})")
        if result.tables:
            out.print(f"ok: all {len(result.tables)} materialized tables are identical")
    else:
        if result.stored != result.rebuilt:
            out.print(f"DIFFERENT: stored {result.stored}, rebuilt {result.rebuilt}")
        if diff is not None:
            out.print(f"first difference at seq {diff.seq}:")
            out.print(f"  stored:  {diff.ours.canonical()[:300] if diff.ours else '(none)'}",
                      markup=False)
            out.print(f"  rebuilt: {diff.theirs.canonical()[:300] if diff.theirs else '(none)'}",
                      markup=False)
        for t in result.tables:
            if not t.ok:
                _print_table(t)
    if not result.ok:
        raise typer.Exit(1)


def _table_json(t: Any) -> dict[str, Any]:
    row = t.difference
    return {"ok": t.ok,
            "stored": None if t.stored is None else {"rows": t.stored.rows,
                                                      "sha256": t.stored.sha256},
            "rebuilt": None if t.rebuilt is None else {"rows": t.rebuilt.rows,
                                                        "sha256": t.rebuilt.sha256},
            "first_difference": None if row is None else {
                "row": row.position, "key": row.key, "stored": row.ours,
                "rebuilt": row.theirs}}


def _print_table(t: Any) -> None:
    def rows(d: Any) -> str:
        return "absent" if d is None else f"{d.rows} rows"

    out.print(f"DIFFERENT table {t.table}: stored {rows(t.stored)}, rebuilt {rows(t.rebuilt)}")
    row = t.difference
    if row is not None:
        out.print(f"  first differing row #{row.position} (key {row.key}):", markup=False)
        out.print(f"  stored:  {row.ours[:300] if row.ours else '(none)'}", markup=False)
        out.print(f"  rebuilt: {row.theirs[:300] if row.theirs else '(none)'}", markup=False)
