"""Read-only access to a git repository through the git command line.

Every git process runs with the user's global and system configuration
switched off and a fixed locale, so nothing from the machine changes what git
prints (invariant I1). Output is read as bytes; text is decoded here once.

No git process kenning runs ever fetches: in a partial clone, git would fetch
a missing blob the moment something asks for it (one round trip per blob, hours
on a long history). kenning asks which objects are absent first and never asks
for those; transports are switched off as well, so a slip fails instead of
fetching.
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
    "GIT_NO_LAZY_FETCH": "1",  # git >= 2.44: a missing object is missing, not fetched
    "GIT_ALLOW_PROTOCOL": "none",  # older git: no transport, so a lazy fetch fails at once
}
# Variables that would change what git shows for the same repository (I1, I5).
_UNSET = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
          "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NO_REPLACE_OBJECTS",
          "GIT_REPLACE_REF_BASE", "GIT_GRAFT_FILE", "GIT_SHALLOW_FILE", "GIT_NAMESPACE")
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
    size: int | None  # None for submodules and missing blobs
    path: str
    missing: bool = False  # a blob this clone lacks (a partial clone, an incomplete mirror)


class GitRepo:
    """One repository on disk: its top-level directory and its git directory."""

    def __init__(self, root: Path, git_dir: Path, common_dir: Path | None = None) -> None:
        self.root = root
        self.git_dir = git_dir
        self._env = {**os.environ, **_GIT_ENV}
        for name in _UNSET:
            self._env.pop(name, None)
        self._common_dir = common_dir  # shared by all worktrees: objects, shallow, grafts
        self._partial: bool | None = None

    @classmethod
    def discover(cls, start: Path) -> GitRepo:
        # checked first: a missing working directory makes subprocess raise the same
        # FileNotFoundError as a missing git
        if not start.exists():
            raise KenningError(f"{start} does not exist (pass --repo a directory inside "
                               "a git clone)")
        try:
            out = subprocess.run(
                ["git", "rev-parse", "--show-toplevel", "--absolute-git-dir",
                 "--git-common-dir"],
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
        if len(lines) < 3:
            raise KenningError(
                f"{start} is a bare repository; kenning needs a clone with a work tree"
            )
        return cls(Path(lines[0]), Path(lines[1]), Path(start, lines[2]).resolve())

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

    def refs_fingerprint(self) -> str:
        """Changes whenever a tag is added, moved or removed, or git would show the same
        commits differently: a deepened or unshallowed clone, replace refs, grafts."""
        out = self.run("for-each-ref", "--sort=refname", "--format=%(refname) %(objectname)",
                       "refs/tags", "refs/replace")
        h = hashlib.sha256(out)
        for name in ("shallow", "info/grafts"):
            h.update(b"\0" + self._git_file(name))
        return h.hexdigest()[:16]

    def replacements_fingerprint(self) -> str:
        """Empty when git shows every commit as it is stored; otherwise a hash of the
        replace refs and grafts that change what it shows."""
        out = self.run("for-each-ref", "--sort=refname", "--format=%(refname) %(objectname)",
                       "refs/replace")
        grafts = self._git_file("info/grafts")
        return hashlib.sha256(out + b"\0" + grafts).hexdigest()[:16] if out or grafts else ""

    def objects_fingerprint(self) -> str:
        """Changes whenever objects are added to the store (a pack fetched, a loose object
        written): what a clone that lacks objects may have gained since."""
        objects = self._common() / "objects"
        names: list[str] = []
        for sub in ("pack", "info", *(f"{n:02x}" for n in range(256))):
            with contextlib.suppress(OSError):
                names.extend(f"{sub}/{entry.name}" for entry in os.scandir(objects / sub))
        h = hashlib.sha256("\n".join(sorted(names)).encode())
        h.update(self._git_file("objects/info/alternates"))
        return h.hexdigest()[:16]

    def is_partial_clone(self) -> bool:
        """A clone with a promisor remote: git fetches what it lacks on demand."""
        if self._partial is None:
            out = self.run("config", "-z", "--get-regexp",
                           r"^(remote\..*\.promisor|extensions\.partialclone)$",
                           ok_codes=(0, 1))
            self._partial = False
            for entry in out.split(b"\0"):
                key, _, value = entry.partition(b"\n")
                if key.lower().startswith(b"extensions.") or (
                        key and value.lower() in (b"", b"true", b"yes", b"on", b"1")):
                    self._partial = True
        return self._partial

    def missing_objects(self, object_ids: Iterable[str]) -> set[str]:
        """The listed objects this clone lacks. Never fetches. An object that is there
        but cannot be read is damage, not absence: that is a KenningError."""
        wanted = set(object_ids)
        if not wanted:
            return set()
        if self.is_partial_clone():
            # asking git about a missing object would fetch it: list what is there instead
            present: set[str] = set()
            pending = b""
            for chunk in self.stream("cat-file", "--batch-all-objects", "--unordered",
                                     "--batch-check=%(objectname)"):
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                present.update(oid for oid in map(bytes.decode, lines) if oid in wanted)
            return wanted - present
        with tempfile.TemporaryFile() as stderr:
            proc = subprocess.run(
                ["git", *GIT_FLAGS, "cat-file", "--batch-check=%(objectname) %(objecttype)"],
                cwd=self.root, input=b"".join(oid.encode() + b"\n" for oid in sorted(wanted)),
                stdout=subprocess.PIPE, stderr=stderr, env=self._env, check=False)
            stderr.seek(0)
            errors = stderr.read()
        missing = {line.split()[0].decode() for line in proc.stdout.splitlines()
                   if line.endswith(b" missing")}
        if proc.returncode != 0 or (missing and errors.strip()):
            # git says "missing" for an object it cannot unpack too, and says why on stderr
            raise KenningError(_git_failure(("cat-file",), errors))
        return missing

    def _common(self) -> Path:
        if self._common_dir is None:
            out = self.run("rev-parse", "--git-common-dir").decode().strip()
            self._common_dir = self.root / out
        return self._common_dir

    def _git_file(self, name: str) -> bytes:
        """A file in the git directory, lines sorted, or b"" when there is none."""
        try:
            return b"\n".join(sorted((self._common() / name).read_bytes().splitlines()))
        except OSError:
            return b""

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository").strip() == b"true"

    def rev_list(self, target: str, *, first_parent: bool = False) -> list[str]:
        args = ["rev-list", *(["--first-parent"] if first_parent else []), target]
        return self.run(*args).decode().split()

    def parents(self, target: str) -> dict[str, tuple[str, ...]]:
        """Every commit reachable from `target` with its parents as git sees them: none
        for a shallow clone's boundary, and whatever replace refs and grafts say."""
        out = self.run("rev-list", "--parents", target).decode()
        commits = {}
        for line in out.splitlines():
            sha, *parents = line.split()
            commits[sha] = tuple(parents)
        return commits

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
        """Every file in the tree at `commit` (recursively), sorted by path. A blob this
        clone lacks is listed with `missing` set and no size."""
        partial = self.is_partial_clone()  # there, sizes of missing blobs would be fetched
        out = self.run("ls-tree", "-r", "-z", *([] if partial else ["--long"]), "--full-tree",
                       commit, "--", *paths)
        rows: list[tuple[str, str, str, str, str]] = []  # mode, kind, id, size, path
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, object_id, *long = meta.decode().split()
            rows.append((mode, kind, object_id, long[0] if long else "?", decode_path(raw_path)))
        unsized = {oid for _, kind, oid, size, _ in rows if kind == "blob" and not size.isdigit()}
        missing = self.missing_objects(unsized)
        sizes = self._sizes(unsized - missing) if partial else {}
        entries = []
        for mode, kind, object_id, size, path in rows:
            if object_id in missing:
                entries.append(TreeEntry(mode, kind, object_id, None, path, missing=True))
                continue
            if object_id in unsized and object_id not in sizes:
                raise KenningError(_damaged(object_id))  # there, yet its size cannot be read
            known = sizes.get(object_id, int(size) if size.isdigit() else None)
            entries.append(TreeEntry(mode, kind, object_id, known, path))
        entries.sort(key=lambda e: e.path)
        return entries

    def _sizes(self, object_ids: set[str]) -> dict[str, int]:
        if not object_ids:
            return {}
        out = self.run("cat-file", "--batch-check=%(objectname) %(objectsize)",
                       stdin=b"".join(oid.encode() + b"\n" for oid in sorted(object_ids)))
        sizes = {}
        for line in out.decode().splitlines():
            oid, size = line.split()
            if size.isdigit():
                sizes[oid] = int(size)
        return sizes

    def read_blobs(self, object_ids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Contents of many blobs through one `git cat-file --batch` process. Blobs this
        clone lacks are left out (never fetched); one that is there but unreadable is a
        KenningError."""
        ids = list(object_ids)
        if ids and self.is_partial_clone():
            absent = self.missing_objects(ids)
            ids = [oid for oid in ids if oid not in absent]
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
                if len(header) < 3:  # "<id> missing": absent, or there but unreadable
                    if not self.missing_objects([object_id]):
                        raise KenningError(_damaged(object_id))
                    continue
                if header[1] != b"blob":  # a tree entry that names another kind of object
                    raise KenningError(_damaged(object_id))
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


def _damaged(object_id: str) -> str:
    return (f"git cannot read the repository (object {object_id} is damaged); "
            "run `git fsck` to find the damage")


def _git_failure(args: tuple[str, ...] | list[str], stderr: bytes) -> str:
    lines = [ln for ln in decode_text(stderr).splitlines() if ln.strip()]
    detail = lines[0] if lines else "no message"
    if any("could not fetch" in line or "not allowed" in line for line in lines):
        return (f"git cannot read the repository without fetching ({lines[-1]}); kenning "
                "never fetches: fetch the missing objects, or scrape a full clone")
    damage = ("corrupt", "bad object", "unable to read", "inflate", "invalid object",
              "packed object", "loose object", "did not receive expected object")
    if any(word in detail for word in damage):
        return f"git cannot read the repository ({detail}); run `git fsck` to find the damage"
    return f"git {args[0]} failed: {detail}"
