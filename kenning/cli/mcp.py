"""`kenning mcp`: serve this repository's knowledge to coding agents (MCP over stdio)."""

from __future__ import annotations

from pathlib import Path

import typer

from kenning.cli.common import DbOption, RepoOption
from kenning.mcp.budget import DEFAULT_MAX_CHARS


def mcp_command(
    update: bool = typer.Option(
        True, "--update/--no-update",
        help="Scrape (without embeddings) before answering when HEAD has moved.",
    ),
    embed: bool = typer.Option(
        True, "--embed/--no-embed",
        help="After such a scrape, catch the embeddings up in a background process.",
    ),
    max_chars: int = typer.Option(
        DEFAULT_MAX_CHARS, "--max-chars", metavar="N",
        help="Cut every answer to at most N characters of JSON (and say so in it).",
    ),
    db: Path = DbOption,
    repo: Path = RepoOption,
) -> None:
    """Serve the repository's history, notes and code to coding agents over MCP (stdio).

    Needs the MCP SDK, an extra: pip install 'kenning[mcp]'. Register the server with a
    client, e.g.:

      claude mcp add kenning -- kenning mcp --repo /path/to/repo
    """
    from kenning.mcp.serve import serve  # the MCP SDK loads only for this command

    serve(repo, db, update=update, embed=embed, max_chars=max_chars)
