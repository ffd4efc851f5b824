"""`kenning recipe show|check`."""

from __future__ import annotations

from pathlib import Path

import typer

from kenning.cli.common import JsonOption, RepoOption, open_handle, out, print_json
from kenning.cli.helptext import Command

recipe_app = typer.Typer(
    help="The recipe (.kenning/recipe.toml): scrape options and materializer parameters.",
    no_args_is_help=True,
)


@recipe_app.command("show", cls=Command)
def show_command(repo: Path = RepoOption, as_json: bool = JsonOption) -> None:
    """Print the effective recipe, each key with what it means: the defaults with the
    repository's overrides.

    Example:

      kenning recipe show --json
    """
    with open_handle(repo, None) as k:
        recipe = k.recipe
    if as_json:
        print_json({"source": recipe.source, "recipe": recipe.values})
        return
    out.print(recipe.to_toml(), markup=False, end="")


@recipe_app.command("check", cls=Command)
def check_command(
    file: Path = typer.Argument(None, metavar="FILE",
                                help="The recipe to check. Default: .kenning/recipe.toml."),
    repo: Path = RepoOption,
) -> None:
    """Validate a recipe: exits non-zero naming the file, key and reason if it is wrong.

    Example:

      kenning recipe check                # .kenning/recipe.toml of this repository
    """
    from kenning.recipes import RECIPE_PATH, read_recipe, recipe_file
    from kenning.repository.gitrepo import GitRepo

    path = file if file is not None else recipe_file(GitRepo.discover(repo).root)
    if path is None:
        out.print(f"no {RECIPE_PATH}: the default recipe applies")
        return
    read_recipe(path)
    out.print(f"{path}: ok")
