"""What every command shares: where the repository and database are, output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from kenning.repository.gitrepo import GitRepo

DEFAULT_DB = Path(".kenning") / "kenning.db"

DbOption = typer.Option(
    None, "--db", metavar="PATH",
    help="Database file. Default: .kenning/kenning.db at the repository root.",
)
RepoOption = typer.Option(
    Path("."), "--repo", metavar="DIR", help="The repository (any directory inside it)."
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def find_repo(repo: Path) -> GitRepo:
    return GitRepo.discover(repo)


def db_path(db: Path | None, repo: GitRepo | None) -> Path:
    if db is not None:
        return db
    if repo is None:
        raise AssertionError("a repository is needed to find the default database")
    return repo.root / DEFAULT_DB


def resolve_db(db: Path | None, repo_dir: Path) -> Path:
    """--db as given, or the default inside the repository that holds repo_dir."""
    return db if db is not None else db_path(None, find_repo(repo_dir))


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False)
