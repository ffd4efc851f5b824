"""A cheap per-call check of whether HEAD may have moved.

git moves HEAD by writing a new file and renaming it over the old one: `.git/HEAD`
(a checkout), the branch's ref file (a commit, a reset, a pull), `packed-refs`
(a `git pack-refs` or a fetch) or, in a reftable repository, `reftable/tables.list`.
So the inode, size and modification time of those few files change whenever HEAD
can have moved; a handful of `stat` calls (microseconds) stand in for running
`git rev-parse HEAD` (milliseconds) on every question, and git runs only when one of
them changed.
"""

from __future__ import annotations

import os
from pathlib import Path

from kenning.repository.gitrepo import GitRepo

Key = tuple[tuple[str, int, int, int] | None, ...]


class HeadWatch:
    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self.git_dir = repo.git_dir
        self.common_dir = _common_dir(repo.git_dir)
        self._confirmed: Key | None = None  # the files' state when HEAD was last checked

    def key(self) -> Key:
        """The state of every file whose change can mean HEAD moved."""
        head = self.git_dir / "HEAD"
        files = [head, self.common_dir / "packed-refs",
                 self.common_dir / "reftable" / "tables.list"]
        try:
            text = head.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        if text.startswith("ref: "):
            files.append(self.common_dir / text.removeprefix("ref: "))
        return tuple(_stat(path) for path in files)

    def unchanged(self, key: Key) -> bool:
        """True when `key` is the state HEAD was last confirmed in."""
        return key == self._confirmed

    def confirm(self, key: Key) -> None:
        """HEAD was checked (and the eventlog matched it) while the files were in `key`.
        Take the key before asking git, so a move in between is seen on the next call."""
        self._confirmed = key

    def head(self) -> str | None:
        return self.repo.head()


def _common_dir(git_dir: Path) -> Path:
    """A linked worktree keeps its own HEAD but shares refs with the main repository."""
    try:
        pointer = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return git_dir
    return (git_dir / pointer).resolve()


def _stat(path: Path) -> tuple[str, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
