"""`kenning verify`."""

from __future__ import annotations

from pathlib import Path

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, db_path, find_repo, out, print_json


def verify_command(
    db: Path = DbOption, repo: Path = RepoOption, as_json: bool = JsonOption
) -> None:
    """Rebuild the eventlog in a temporary database and compare it with the stored one.

    Exits 1 and shows the first differing event when they differ. Put it in CI
    to prove that a commit always yields the same eventlog.

    Example:

      kenning scrape && kenning verify
    """
    from kenning.verify import verify

    git_repo = find_repo(repo)
    result = verify(git_repo, db_path(db, git_repo))
    diff = result.difference
    if as_json:
        print_json({"ok": result.ok, "stored": result.stored, "rebuilt": result.rebuilt,
                    "first_difference": None if diff is None else {
                        "seq": diff.seq,
                        "stored": diff.ours.canonical() if diff.ours else None,
                        "rebuilt": diff.theirs.canonical() if diff.theirs else None}})
    elif result.ok:
        out.print(f"ok: the rebuilt eventlog is identical ({result.stored})")
    else:
        out.print(f"DIFFERENT: stored {result.stored}, rebuilt {result.rebuilt}")
        if diff is not None:
            out.print(f"first difference at seq {diff.seq}:")
            out.print(f"  stored:  {diff.ours.canonical()[:300] if diff.ours else '(none)'}")
            out.print(f"  rebuilt: {diff.theirs.canonical()[:300] if diff.theirs else '(none)'}")
    if not result.ok:
        raise typer.Exit(1)
