"""The one channel from the engines to whoever shows their work: stages and notices.

Scrapers, materializers and the embedder report through a `Progress` that the
caller passes down (the CLI draws bars, the Python API and the MCP server stay
silent or log); what they found worth telling goes into `Notice`s, grouped by
kind when shown. Nothing here prints, and nothing here imports the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Progress(Protocol):
    def start(self, stage: str, total: int | None) -> None:
        """A stage begins (`git`, `code`, `embeddings`, ...) with its units of work, when
        known."""
        ...

    def advance(self, n: int = 1) -> None: ...

    def finish(self) -> None:
        """The stage that was started has ended."""
        ...

    def note(self, message: str) -> None:
        """Something the user can act on now, while the run goes on (e.g. that lexical
        answers work before the vectors are made)."""
        ...


class Silent:
    """A Progress that shows nothing (the default for library calls)."""

    def start(self, stage: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...
    def note(self, message: str) -> None: ...


@dataclass(frozen=True)
class Notice:
    """Something a run found that the user should hear about, e.g. a malformed note.

    `kind` groups notices when they are shown ("session-note", "code", "missing-blob",
    "shallow"); `where` is a `path:line` or path, when there is one."""

    kind: str
    message: str
    where: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message
