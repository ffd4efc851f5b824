"""What every command shares: the options that find the repository and database, and output."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from kenning.api.handle import Kenning, VectorFill
    from kenning.materialize.engine import RunResult
    from kenning.progress import Notice

DbOption = typer.Option(
    None, "--db", metavar="PATH",
    help="Database file. Default: .kenning/kenning.db at the repository root.",
)
RepoOption = typer.Option(
    Path("."), "--repo", metavar="DIR", help="The repository (any directory inside it)."
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")
QuietOption = typer.Option(False, "--quiet", "-q",
                           help="Print nothing but errors: no progress, warnings or summary.")
VerboseOption = typer.Option(False, "--verbose", "-v",
                             help="Print every warning, not only the first few of each kind.")
SHOWN_PER_KIND = 3  # warnings of one kind shown without --verbose


class _Console:
    """A rich Console made on first use. Importing rich costs about 40 ms, an eighth
    of a lexical `scry` from the shell, which prints its hits without it."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


out = _Console(highlight=False, soft_wrap=True)
# soft_wrap: a warning that names file:line is never cut onto a second line
err = _Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_is_terminal() -> bool:
    """Whether stdout takes escape codes, by rich's rules (TTY_COMPATIBLE, then
    FORCE_COLOR, then isatty), without importing it."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    forced = os.environ.get("FORCE_COLOR")
    if forced is not None:
        return forced != ""
    return sys.stdout.isatty()


def stdout_width() -> int:
    """The terminal's width: $COLUMNS, else the terminal's own, else 80."""
    return shutil.get_terminal_size().columns


def open_handle(repo: Path, db: Path | None, *, until: str | None = None) -> Kenning:
    """The one way every command finds its repository, database and recipe."""
    from kenning.api.handle import open as open_kenning

    return open_kenning(repo, db, until=until)


def styled() -> bool:
    """Bold and dim on stdout: only on a terminal, and never with NO_COLOR set."""
    return stdout_is_terminal() and not os.environ.get("NO_COLOR")


def bold(text: str) -> str:
    return f"\x1b[1m{text}\x1b[0m" if styled() else text


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def note_line(message: str) -> None:
    """Something true about the answers (e.g. how old they are), on stderr."""
    sys.stderr.write(f"note: {message}\n")


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False)


def warn_grouped(notices: Sequence[Notice], *, verbose: bool) -> None:
    """Warnings grouped by kind: each kind's count and its first few locations (all of
    them with --verbose)."""
    by_kind: dict[str, list[Notice]] = {}
    for notice in notices:
        by_kind.setdefault(notice.kind, []).append(notice)
    for kind, group in by_kind.items():
        shown = group if verbose else group[:SHOWN_PER_KIND]
        if len(group) > 1:
            more = "" if len(shown) == len(group) else " (--verbose shows all)"
            warn(f"{len(group)} {kind} warnings{more}:")
            for notice in shown:
                err.print(f"  {notice}", markup=False, highlight=False)
            if len(shown) < len(group):
                err.print(f"  ... and {len(group) - len(shown)} more", markup=False)
        else:
            warn(str(group[0]))


def start_vector_fill(k: Kenning, runs: Sequence[RunResult], *, quiet: bool,
                      only_after_change: bool = True) -> VectorFill | None:
    """After a run of a `static-rerank` database's embeddings (that changed them, unless
    `only_after_change` is off): its missing re-ranking vectors made in the background
    (Kenning.fill_vectors), and a line that says so."""
    if not any(r.name == "embeddings" and (r.action != "fresh" or not only_after_change)
               for r in runs):
        return None
    filling = k.fill_vectors()
    if filling is not None and filling.pid is not None and not quiet:
        err.print(f"kenning: MiniLM makes {filling.vectors} re-ranking vectors in the "
                  f"background (pid {filling.pid}); until then a question makes its own "
                  "candidates' (the same answers, seconds slower)", markup=False,
                  highlight=False)
    return filling


def embeddings_note(details: dict[str, Any]) -> str:
    """"embeddings: N texts embedded, M from the cache in S s (model)" from a run's figures."""
    return (f"embeddings: {details.get('embedded', 0)} texts embedded, "
            f"{details.get('cached', 0)} from the cache in "
            f"{float(details.get('seconds', 0.0)):.1f}s ({details.get('model', '?')})")
