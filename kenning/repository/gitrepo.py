"""Read-only access to a git repository through the git command line.

Every git process runs with the user's global and system configuration
switched off and a fixed locale, so nothing from the machine changes what git
prints (invariant I1). Output is read as bytes; text is decoded here once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kenning.errors import KenningError
from kenning.processes import PREEXEC_DIE_WITH_PARENT

_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LC_ALL": "C",
    "LANG": "C",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
}
# Flags that pin what git prints regardless of the repository's own config.
GIT_FLAGS = ("-c", "core.quotepath=off", "-c", "log.showSignature=false", "-c", "color.ui=never")


class Spooled:
    """A running git process writing into a temporary file (see GitRepo.spool)."""

    def __init__(self, proc: subprocess.Popen[bytes], out: IO[bytes], err: IO[bytes],
                 args: tuple[str, ...]) -> None:
        self._proc, self._out, self._err, self._args = proc, out, err, args

    def chunks(self) -> Iterator[bytes]:
        try:
            if self._proc.wait() != 0:
                self._err.seek(0)
                raise KenningError(_git_failure(self._args, self._err.read()))
            self._out.seek(0)
            while chunk := self._out.read(1 << 16):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._out.close()
        self._err.close()


def decode_text(raw: bytes) -> str:
    """Messages and names: invalid UTF-8 becomes U+FFFD, deterministically."""
    return raw.decode("utf-8", "replace")


def decode_path(raw: bytes) -> str:
    """Paths: invalid bytes become `\\xNN`, so distinct paths stay distinct."""
    return raw.decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    kind: str  # blob, tree or commit (a submodule)
    object_id: str
    size: int | None  # None for submodules
    path: str


class GitRepo:
    """One repository on disk: its top-level directory and its git directory."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self._env = {**os.environ, **_GIT_ENV}
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
            self._env.pop(name, None)

    @classmethod
    def discover(cls, start: Path) -> GitRepo:
        try:
            out = subprocess.run(
                ["git", "rev-parse", "--show-toplevel", "--absolute-git-dir"],
                cwd=start, capture_output=True, env={**os.environ, **_GIT_ENV}, check=False,
            )
        except FileNotFoundError as exc:
            raise KenningError("git is not installed or not on PATH") from exc
        except NotADirectoryError as exc:
            raise KenningError(f"{start} is not a directory") from exc
        if out.returncode != 0:
            raise KenningError(
                f"{start} is not inside a git repository (run kenning in a clone, or pass --repo)"
            )
        lines = out.stdout.decode().splitlines()
        if len(lines) < 2:
            raise KenningError(
                f"{start} is a bare repository; kenning needs a clone with a work tree"
            )
        return cls(Path(lines[0]), Path(lines[1]))

    # -- running git ---------------------------------------------------------

    def run(self, *args: str, stdin: bytes | None = None, ok_codes: Iterable[int] = (0,)) -> bytes:
        # stderr goes to a file: with only stdout piped, the output is read in one
        # call instead of a select loop of small reads (4x faster on large output)
        with tempfile.TemporaryFile() as stderr:
            proc = subprocess.run(
                ["git", *GIT_FLAGS, *args], cwd=self.root, input=stdin,
                stdout=subprocess.PIPE, stderr=stderr, env=self._env, check=False,
            )
            if proc.returncode not in tuple(ok_codes):
                stderr.seek(0)
                raise KenningError(_git_failure(args, stderr.read()))
        return proc.stdout

    def stream(self, *args: str, stdin_path: Path | None = None) -> Iterator[bytes]:
        """Yields chunks of a git command's output as it runs, without a shell."""
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                ["git", *GIT_FLAGS, *args], cwd=self.root, stdin=stdin,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self._env,
            )
            assert proc.stdout is not None and proc.stderr is not None
            try:
                while chunk := proc.stdout.read(1 << 16):
                    yield chunk
                err = proc.stderr.read()
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            if proc.returncode != 0:
                raise KenningError(_git_failure(args, err))
        finally:
            if stdin_path:
                stdin.close()  # type: ignore[union-attr]

    def spool(self, *args: str, stdin: bytes) -> Spooled:
        """Starts a git command now with its output going to a temporary file, so that
        several can run at once while only one is read; `Spooled.chunks()` waits for
        it and yields the output."""
        out = tempfile.TemporaryFile()  # noqa: SIM115 (Spooled closes both)
        err = tempfile.TemporaryFile()  # noqa: SIM115
        with tempfile.TemporaryFile() as inp:
            inp.write(stdin)
            inp.seek(0)
            proc = subprocess.Popen(["git", *GIT_FLAGS, *args], cwd=self.root, stdin=inp,
                                    stdout=out, stderr=err, env=self._env,
                                    preexec_fn=PREEXEC_DIE_WITH_PARENT)
        return Spooled(proc, out, err, args)

    # -- questions -----------------------------------------------------------

    def head(self) -> str | None:
        """The commit HEAD points to, or None in a repository with no commits."""
        out = self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", ok_codes=(0, 1))
        return out.decode().strip() or None

    def resolve_commit(self, rev: str) -> str | None:
        if rev.startswith("-"):
            return None
        out = self.run("rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}",
                       ok_codes=(0, 1, 128))
        return out.decode().strip() or None

    def tags_fingerprint(self) -> str:
        """Changes whenever a tag is added, moved or removed."""
        out = self.run("for-each-ref", "--sort=refname", "--format=%(refname) %(objectname)",
                       "refs/tags")
        return hashlib.sha256(out).hexdigest()[:16]

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository").strip() == b"true"

    def rev_list(self, target: str, *, first_parent: bool = False) -> list[str]:
        args = ["rev-list", *(["--first-parent"] if first_parent else []), target]
        return self.run(*args).decode().split()

    def last_first_parent_commit_before(self, target: str, epoch_seconds: int) -> str | None:
        out = self.run("rev-list", "--first-parent", "-1", f"--before={epoch_seconds}", target)
        return out.decode().strip() or None

    def commit_time(self, commit: str) -> int:
        return int(self.run("show", "-s", "--format=%ct", commit).strip())

    def is_ancestor(self, maybe_ancestor: str, commit: str) -> bool:
        proc = subprocess.run(
            ["git", "merge-base", "--is-ancestor", maybe_ancestor, commit],
            cwd=self.root, capture_output=True, env=self._env, check=False,
        )
        return proc.returncode == 0

    def ls_tree(self, commit: str, paths: Iterable[str] = ()) -> list[TreeEntry]:
        """Every file in the tree at `commit` (recursively), sorted by path."""
        out = self.run("ls-tree", "-r", "-z", "--long", "--full-tree", commit, "--", *paths)
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, path = record.partition(b"\t")
            mode, kind, object_id, size = meta.decode().split()
            entries.append(TreeEntry(mode, kind, object_id,
                                     None if size == "-" else int(size), decode_path(path)))
        entries.sort(key=lambda e: e.path)
        return entries

    def read_blobs(self, object_ids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Contents of many blobs through one `git cat-file --batch` process."""
        ids = list(object_ids)
        if not ids:
            return
        proc = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=self.root, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self._env,
        )
        assert proc.stdin is not None and proc.stdout is not None
        stdin = proc.stdin

        def ask() -> None:  # all requests at once, from a thread: no round trip per blob
            # OSError: git exited early (the reader below stopped, or git failed)
            with contextlib.suppress(OSError), stdin:
                stdin.write(b"".join(object_id.encode() + b"\n" for object_id in ids))

        writer = threading.Thread(target=ask, daemon=True)
        writer.start()
        try:
            for object_id in ids:
                header = proc.stdout.readline().split()
                if len(header) < 3:  # "<id> missing"
                    continue
                size = int(header[2])
                body = proc.stdout.read(size)
                proc.stdout.read(1)  # the newline after every object
                yield object_id, body
        finally:
            proc.kill()
            proc.wait()
            writer.join()

    def read_blob(self, object_id: str) -> bytes:
        return self.run("cat-file", "blob", object_id)


def _git_failure(args: tuple[str, ...] | list[str], stderr: bytes) -> str:
    lines = [ln for ln in decode_text(stderr).splitlines() if ln.strip()]
    detail = lines[0] if lines else "no message"
    damage = ("corrupt", "bad object", "unable to read", "inflate", "invalid object",
              "packed object", "loose object", "did not receive expected object")
    if any(word in detail for word in damage):
        return f"git cannot read the repository ({detail}); run `git fsck` to find the damage"
    return f"git {args[0]} failed: {detail}"
