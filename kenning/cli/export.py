"""`kenning export`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from kenning.cli.common import DbOption, RepoOption, err, open_handle


def export_command(
    fmt: str = typer.Option("jsonl", "--format", metavar="FORMAT",
                            help="jsonl (streamed, canonical) or parquet (needs pyarrow: "
                            "pip install 'kenning[parquet]')."),
    output: Path = typer.Option(None, "--output", "-o", metavar="FILE",
                                help="Write to FILE instead of stdout (required for parquet)."),
    db: Path = DbOption,
    repo: Path = RepoOption,
) -> None:
    """Export the eventlog, one event per row in seq order, for DuckDB, Spark or a warehouse.

    Examples:

      kenning export > events.jsonl

      kenning export --format parquet --output events.parquet
    """
    try:
        with open_handle(repo, db) as k:
            n = k.export(fmt, output, sys.stdout.buffer)
        sys.stdout.flush()
    except BrokenPipeError:  # `kenning export | head`: the reader had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None
    if output is not None:
        err.print(f"exported {n} events to {output}", markup=False)
