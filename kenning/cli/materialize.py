"""`kenning materialize`."""

from __future__ import annotations

from pathlib import Path

import typer

from kenning.cli.common import DbOption, JsonOption, RepoOption, db_path, find_repo, out, print_json


def materialize_command(
    names: list[str] = typer.Argument(
        None, metavar="[NAME]...",
        help="Only these materializers (views, fts, co_changes, ...). Default: every enabled one.",
    ),
    rebuild: bool = typer.Option(False, "--rebuild",
                                 help="Rebuild from the whole eventlog instead of catching up."),
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
    from kenning.materialize.engine import materialize
    from kenning.recipes import load_recipe

    git_repo = find_repo(repo)
    recipe = load_recipe(git_repo.root)
    results = materialize(db_path(db, git_repo), recipe, names or (), rebuild=rebuild)
    if as_json:
        print_json({"recipe": recipe.source, "materializers": [r.as_dict() for r in results]})
        return
    for r in results:
        detail = {"rebuilt": f"rebuilt ({r.reason}): {r.added} events",
                  "caught up": f"caught up: +{r.added} -{r.removed} events",
                  "fresh": "already fresh",
                  "dropped": f"tables dropped ({r.reason})"}[r.action]
        out.print(f"{r.name:<12} {detail} in {r.seconds:.2f}s")
