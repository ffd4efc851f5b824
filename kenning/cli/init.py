"""`kenning init`."""

from __future__ import annotations

from pathlib import Path

import typer

from kenning.cli.common import RepoOption, open_handle, out


def init_command(
    hooks: bool = typer.Option(
        False, "--hooks", help="Also install git hooks (post-merge, post-checkout, "
        "post-rewrite) that run `kenning scrape` in the background after every pull, "
        "checkout and rebase, logging to .kenning/hook.log."),
    uninstall_hooks: bool = typer.Option(
        False, "--uninstall-hooks", help="Remove kenning's git hooks again (your own hooks "
        "stay as they were) and do nothing else."),
    repo: Path = RepoOption,
) -> None:
    """Set the repository up: .kenning/ with a .gitignore (the database stays out of git)
    and a recipe that shows every default, commented out.

    Nothing that is already there is overwritten, so running it again changes nothing.

    Examples:

    \b
      kenning init                     # .kenning/.gitignore and .kenning/recipe.toml
      kenning init --hooks             # and keep the database up to date after git pull
      kenning init --uninstall-hooks   # remove those hooks again
    """
    with open_handle(repo, None) as k:
        report = k.init(hooks=hooks, uninstall_hooks=uninstall_hooks)
        root = k.root
    for change in report.changes:
        out.print(f"{_shown(change.path, root)}: {change.action}", markup=False)
    if not report.changed:
        out.print("nothing to do: the repository is set up already"
                  if not uninstall_hooks else "nothing to do: no kenning hooks found")


def _shown(path: Path, root: Path | None) -> str:
    """A path relative to the repository when it is inside it (hooks may live elsewhere)."""
    try:
        return path.relative_to(root).as_posix() if root else str(path)
    except ValueError:
        return str(path)
