"""Git hooks that keep the database up to date after a merge, checkout or rewrite.

`kenning init --hooks` puts one clearly marked block into `post-merge`,
`post-checkout` and `post-rewrite` in the directory git runs hooks from
(`git rev-parse --git-path hooks`: core.hooksPath and linked worktrees
included). The block starts an incremental `kenning scrape` in the background,
with the interpreter that ran `init`, and returns at once: git never waits for
it, and whatever happens to kenning (failing, uninstalled, its interpreter
gone) the git command's outcome is the same. Its output goes to
`.kenning/hook.log`. Hooks that fire close together (a checkout, then a merge)
may run at once: each scrape waits for the other's write lock, and one that
finds HEAD moved while it ran scrapes again, so the last one leaves the
database at the final HEAD.

A hook the user already has keeps its content: the block goes right after its
`#!` line (at the end it would never run after an `exit`, and post-checkout's
last status is the checkout's exit status), and `--uninstall-hooks` removes
exactly that block, so the file is byte for byte what it was. A hook file
kenning created alone is deleted again.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kenning.errors import KenningError

HOOKS = ("post-merge", "post-checkout", "post-rewrite")
LOG = ".kenning/hook.log"
BEGIN = "# >>> kenning >>>"
END = "# <<< kenning <<<"
# The start of a hook file that kenning wrote alone (deleted again on uninstall).
CREATED = "#!/bin/sh\n# This hook was written by `kenning init --hooks`.\n"
_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox"}
_LOG_LIMIT = 1_000_000  # bytes; a longer log is moved to hook.log.1 first


@dataclass(frozen=True)
class FileChange:
    path: Path
    action: str  # in words: "created", "added to your hook", "removed", ...
    changed: bool  # whether the file changed


def hooks_dir(root: Path) -> Path:
    """Where git runs this repository's hooks from, as the user's git sees it (their
    global core.hooksPath counts, so their configuration is not switched off here)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    try:
        proc = subprocess.run(["git", "rev-parse", "--git-path", "hooks"], cwd=root, env=env,
                              capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise KenningError("git is not installed or not on PATH") from exc
    if proc.returncode != 0:
        raise KenningError(f"cannot find the hooks folder of {root}: "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    return root / proc.stdout.decode().strip()  # relative to root, or absolute


def block(hook: str, python: str) -> str:
    """The lines kenning puts into one hook (a POSIX shell fragment that changes nothing
    in the hook around it: it runs in a subshell with its own stdin and output)."""
    moved = ('  [ "$3" = 1 ] && [ "$1" != "$2" ] || exit 0  # a branch checkout that '
             "moved HEAD\n") if hook == "post-checkout" else ""
    return (
        f"{BEGIN} added by `kenning init --hooks`; `kenning init --uninstall-hooks` "
        "removes it\n"
        "# Brings .kenning/kenning.db up to date in the background (output in "
        f"{LOG});\n"
        "# it returns at once and never changes what git does.\n"
        "(\n"
        "  set +eu\n"
        "  [ -d .kenning ] || exit 0  # set up with `kenning init`\n"
        f"{moved}"
        "  unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_OBJECT_DIRECTORY\n"
        f"  python={shlex.quote(python)}\n"
        f"  log={LOG}\n"
        f'  [ "$(wc -c <"$log" 2>/dev/null || echo 0)" -gt {_LOG_LIMIT} ] '
        '&& mv -f "$log" "$log.1"\n'
        f'  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) {hook}: kenning scrape" >>"$log"\n'
        '  if [ -x "$python" ]; then\n'
        "    (trap '' HUP  # outlives the terminal; again while HEAD moved meanwhile\n"
        "     for attempt in 1 2 3 4 5; do\n"
        "       head=$(git rev-parse -q --verify HEAD)\n"
        '       KENNING_LOCK_TIMEOUT=3600 "$python" -m kenning scrape; status=$?\n'
        '       [ "$(git rev-parse -q --verify HEAD)" = "$head" ] && break\n'
        "     done\n"
        f'     echo "== {hook}: exit $status") >>"$log" 2>&1 </dev/null &\n'
        "  else\n"
        '    echo "== $python is gone: run \\`kenning init --hooks\\` with kenning\'s '
        'interpreter, or \\`kenning init --uninstall-hooks\\`" >>"$log"\n'
        "  fi\n"
        ") </dev/null >/dev/null 2>&1 || :\n"
        f"{END}\n"
    )


def install(root: Path, python: str) -> list[FileChange]:
    """Add (or refresh) kenning's block in every hook; the user's own lines stay."""
    folder = hooks_dir(root)
    return [_install_one(folder / name, block(name, python)) for name in HOOKS]


def uninstall(root: Path) -> list[FileChange]:
    """Remove kenning's block from every hook (deleting a file kenning created alone)."""
    folder = hooks_dir(root)
    return [_uninstall_one(folder / name) for name in HOOKS]


def _install_one(path: Path, wanted: str) -> FileChange:
    if not path.exists() and not path.is_symlink():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(CREATED + wanted, encoding="utf-8")
            path.chmod(0o755)
        except OSError as exc:
            raise KenningError(f"cannot write {path}: {exc.strerror}") from exc
        return FileChange(path, "created", True)
    why_not = _cannot_edit(path)
    if why_not:
        return FileChange(path, f"left alone: {why_not}", False)
    text = _read(path)
    found = _find_block(text)
    if found is not None:
        start, end = found
        if text[start:end] == wanted:
            return FileChange(path, "already there", False)
        _write(path, text[:start] + wanted + text[end:])
        return FileChange(path, "updated (another interpreter or kenning version)", True)
    first_line_end = text.find("\n") + 1 if text.startswith("#!") else 0
    if text.startswith("#!") and first_line_end == 0:  # only a `#!` line, without newline
        text, first_line_end = text + "\n", len(text) + 1
    _write(path, text[:first_line_end] + wanted + text[first_line_end:])
    return FileChange(path, "added to your hook", True)


def _uninstall_one(path: Path) -> FileChange:
    if path.is_symlink() or not path.is_file():
        return FileChange(path, "no kenning hook", False)
    text = _read(path)
    found = _find_block(text)
    if found is None:
        return FileChange(path, "no kenning hook", False)
    start, end = found
    rest = text[:start] + text[end:]
    if rest == CREATED:
        try:
            path.unlink()
        except OSError as exc:
            raise KenningError(f"cannot remove {path}: {exc.strerror}") from exc
        return FileChange(path, "removed", True)
    _write(path, rest)
    return FileChange(path, "kenning's lines removed; your hook stays", True)


def _find_block(text: str) -> tuple[int, int] | None:
    """Where kenning's block is: from the start of its first line to the end of its last."""
    start = text.find(BEGIN)
    if start < 0 or (start > 0 and text[start - 1] != "\n"):
        return None
    end = text.find(END + "\n", start)
    return (start, end + len(END) + 1) if end >= 0 else None


def _cannot_edit(path: Path) -> str | None:
    """Why an existing hook is not kenning's to change, if it is not."""
    if path.is_symlink():
        return "a symbolic link (add kenning's lines to what it points at yourself)"
    if not path.is_file():
        return "not a file"
    if not os.access(path, os.X_OK):
        return "not executable, so git does not run it"
    first = _read(path).split("\n", 1)[0]
    if first.startswith("#!"):  # without one, git runs it with sh
        words = [Path(w).name for w in first[2:].split() if not w.startswith("-")]
        if words[:1] == ["env"]:
            words = words[1:]
        if not words or words[0] not in _SHELLS:
            return f"not a shell script ({first})"
    return None


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except OSError as exc:
        raise KenningError(f"cannot read {path}: {exc.strerror}") from exc


def _write(path: Path, text: str) -> None:
    """Rewrite an existing hook in place (its mode and owner stay)."""
    try:
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
    except OSError as exc:
        raise KenningError(f"cannot write {path}: {exc.strerror}") from exc
