"""Embeddings caught up in the background, so a question never waits for the model.

After the server scrapes without embeddings, `kenning materialize embeddings` runs in a
child process: the model's work (seconds to minutes) happens outside the server, which
keeps answering from the vectors it has (plus words for what is new); the child holds
the database's write lock while it works, and readers go on meanwhile (WAL).

When HEAD moves again before it is done, the server stops the child first: its
transaction rolls back (the database is as before, I4), while every batch of vectors it
finished stays in the user-wide vector cache, so the next run starts where it stopped.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from kenning.processes import this_kenning

STOP_WAIT_SECONDS = 5.0


class EmbeddingCatchUp:
    def __init__(self, root: Path | None, db_path: Path) -> None:
        self.root = root
        self.db_path = db_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._started = 0.0
        self._told: list[str] = []  # one-off news for the next answer

    def start(self) -> None:
        """Start (or restart) catching up."""
        self.stop()
        args = this_kenning("kenning", "materialize", "embeddings", "--db", str(self.db_path))
        if self.root is not None:
            args += ["--repo", str(self.root)]
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _reap)
        # stdin and stdout are the MCP channel: the child must never touch them
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=self._stderr,
                                      cwd=self.root or Path.cwd(), env=os.environ.copy())
        self._started = time.monotonic()

    def running(self) -> bool:
        self._reap()
        return self._proc is not None

    def stop(self) -> None:
        """Stop the child if it runs; what it wrote to the cache stays there."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(STOP_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._close()

    def notes(self) -> list[str]:
        """What the answer should say about the embeddings: still running, or news of
        how the last run ended (said once)."""
        self._reap()
        told, self._told = self._told, []
        if self._proc is not None:
            seconds = time.monotonic() - self._started
            told.append(f"embeddings are catching up in the background ({seconds:.0f}s so "
                        "far): what the last update added is found by its words only until "
                        "they are done; the rest is searched by meaning too")
        return told

    def _reap(self) -> None:
        if self._proc is None or self._proc.poll() is None:
            return
        code = self._proc.returncode
        if code == 0:
            self._told.append("the embeddings caught up: every document is searched by "
                              "meaning again")
        else:
            self._told.append(f"the embeddings could not catch up ({self._last_error()}); "
                              "new documents are found by their words only; run "
                              "`kenning materialize embeddings`")
        self._close()

    def _last_error(self) -> str:
        if self._stderr is None:
            return "no message"
        self._stderr.seek(0)
        lines = [ln.strip() for ln in self._stderr.read().decode("utf-8", "replace")
                 .splitlines() if ln.strip()]
        return lines[-1].removeprefix("kenning: ") if lines else "no message"

    def _close(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
        self._proc, self._stderr = None, None
