"""`kenning init`: set a repository up the way people expect.

- `.kenning/` with a `.gitignore` that keeps everything kenning writes there
  (the database, its -wal/-shm/-journal files, databases of past states, the
  hook log) out of `git status`, but not the recipe, which is shared;
- `.kenning/recipe.toml` with every key of the default recipe commented out
  under its explanation, so the defaults are in plain sight;
- with `hooks`, the git hooks of kenning/api/hooks.py; `uninstall_hooks`
  removes exactly those again.

Nothing here overwrites a file that is already there, so running it twice
changes nothing.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kenning.api import hooks
from kenning.api.hooks import FileChange
from kenning.errors import KenningError
from kenning.recipes import RECIPE_PATH, commented_default_recipe

KENNING_DIR = Path(".kenning")
GITIGNORE = """\
# Written by kenning. What kenning keeps in this folder is local to this clone: the
# database with its -wal, -shm and -journal files, databases of past states, hook.log.
# Only the recipe is shared: commit recipe.toml.
*
!recipe.toml
"""
RECIPE_HEADER = """\
# kenning's recipe for this repository; commit it, so that everyone builds the same
# database. Every key is shown with its default value, commented out: to change one,
# remove the `#` before it and before its [table] line. `kenning recipe show` prints
# the recipe in effect, `kenning recipe check` validates this file.

"""


@dataclass
class InitReport:
    changes: list[FileChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.changes)


def init(root: Path, *, hooks_wanted: bool = False, uninstall_hooks: bool = False,
         python: str | None = None) -> InitReport:
    """Set the repository at `root` up (or, with `uninstall_hooks`, only remove kenning's
    hooks). `python` is the interpreter the hooks run kenning with: the one running now."""
    if hooks_wanted and uninstall_hooks:
        raise KenningError("--hooks and --uninstall-hooks contradict each other; give one")
    if uninstall_hooks:
        return InitReport(hooks.uninstall(root))
    folder = root / KENNING_DIR
    ignored = ignore_local_files(folder)
    report = InitReport([
        FileChange(folder / ".gitignore", "created" if ignored else "kept (already there)",
                   ignored),
        _write_recipe(root / RECIPE_PATH),
    ])
    if hooks_wanted:
        report.changes.extend(hooks.install(root, python or _interpreter()))
    return report


def ignore_local_files(folder: Path) -> bool:
    """Write `folder/.gitignore` unless there is one (the user's is never overwritten);
    whether it was written."""
    path = folder / ".gitignore"
    if path.exists() or path.is_symlink():
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KenningError(f"cannot create {folder}: {exc.strerror}") from exc
    try:
        with path.open("x", encoding="utf-8") as f:  # "x": never over one made meanwhile
            f.write(GITIGNORE)
    except FileExistsError:
        return False
    except OSError as exc:
        raise KenningError(f"cannot write {path}: {exc.strerror}") from exc
    return True


def _write_recipe(path: Path) -> FileChange:
    if path.exists() or path.is_symlink():
        return FileChange(path, "kept (already there)", False)
    try:
        with path.open("x", encoding="utf-8") as f:
            f.write(RECIPE_HEADER + commented_default_recipe())
    except FileExistsError:
        return FileChange(path, "kept (already there)", False)
    except OSError as exc:
        raise KenningError(f"cannot write {path}: {exc.strerror}") from exc
    return FileChange(path, "created (the defaults, commented out; commit it to share)",
                      True)


def _interpreter() -> str:
    """The Python running kenning now, as an absolute path (not resolved: a virtual
    environment's python is a link to the base interpreter, which lacks kenning)."""
    if not sys.executable:
        raise KenningError("cannot tell which Python runs kenning, so the hooks could not "
                           "call it; run `python -m kenning init --hooks`")
    return os.path.abspath(sys.executable)
