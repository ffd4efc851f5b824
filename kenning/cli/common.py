"""What every command shares: the options that find the repository and database, and output."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from kenning.api.handle import Kenning

DbOption = typer.Option(
    None, "--db", metavar="PATH",
    help="Database file. Default: .kenning/kenning.db at the repository root.",
)
RepoOption = typer.Option(
    Path("."), "--repo", metavar="DIR", help="The repository (any directory inside it)."
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")

out = Console(highlight=False, soft_wrap=True)
# soft_wrap: a warning that names file:line is never cut onto a second line
err = Console(stderr=True, highlight=False, soft_wrap=True)


def open_handle(repo: Path, db: Path | None, *, until: str | None = None) -> Kenning:
    """The one way every command finds its repository, database and recipe."""
    from kenning.api.handle import open as open_kenning

    return open_kenning(repo, db, until=until)


def styled() -> bool:
    """Bold and dim on stdout: only on a terminal, and never with NO_COLOR set."""
    return out.is_terminal and not os.environ.get("NO_COLOR")


def bold(text: str) -> str:
    return f"\x1b[1m{text}\x1b[0m" if styled() else text


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def note_line(message: str) -> None:
    """Something true about the answers (e.g. how old they are), on stderr."""
    err.print(f"note: {message}", markup=False, highlight=False)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False)


def embeddings_note(details: dict[str, Any]) -> str:
    """"embeddings: N texts embedded, M from the cache in S s (model)" from a run's figures."""
    return (f"embeddings: {details.get('embedded', 0)} texts embedded, "
            f"{details.get('cached', 0)} from the cache in "
            f"{float(details.get('seconds', 0.0)):.1f}s ({details.get('model', '?')})")
