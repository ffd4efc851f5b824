"""Starting the server: open the handle, warm it up, then speak MCP on stdin/stdout.

The vectors and the query encoder load in a thread while the MCP SDK is imported (the
larger part of the start-up), so the first question finds them ready.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import kenning.scry  # noqa: F401  (its one-BLAS-thread setting must precede numpy)
from kenning.api.handle import open as open_kenning
from kenning.errors import KenningError
from kenning.mcp.budget import MIN_MAX_CHARS
from kenning.mcp.live import Live


def serve(repo: Path, db: Path | None, *, update: bool = True, embed: bool = True,
          max_chars: int) -> None:
    if max_chars < MIN_MAX_CHARS:
        raise KenningError(f"--max-chars must be at least {MIN_MAX_CHARS}")
    if importlib.util.find_spec("mcp") is None:  # checked before anything is opened
        raise KenningError("kenning mcp needs the MCP SDK, which is not installed: "
                           "pip install 'kenning[mcp]'")
    handle = open_kenning(repo, db.resolve() if db is not None else None)
    if handle.root is not None:
        # paths from agents are repository-relative (or absolute): resolve them at the root
        os.chdir(handle.root)
    live = Live(handle, update=update, embed=embed)
    threading.Thread(target=live.warm_up, name="kenning-warm-up", daemon=True).start()
    from kenning.mcp.server import build  # the SDK: most of the start-up time

    try:
        build(live, max_chars).run("stdio")
    finally:
        live.close()
