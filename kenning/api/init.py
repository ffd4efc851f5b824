"""Setting a repository up for kenning.

`.kenning/` gets a `.gitignore` that keeps everything kenning writes there (the
database, its -wal/-shm/-journal files, databases of past states, logs) out of
`git status`, but not the recipe, which is shared. A user's own `.gitignore`
there is never overwritten.
"""

from __future__ import annotations

from pathlib import Path

from kenning.errors import KenningError

KENNING_DIR = Path(".kenning")
GITIGNORE = """\
# Written by kenning. What kenning keeps in this folder is local to this clone: the
# database with its -wal, -shm and -journal files, databases of past states, hook.log.
# Only the recipe is shared: commit recipe.toml.
*
!recipe.toml
"""


def ignore_local_files(folder: Path) -> bool:
    """Write `folder/.gitignore` unless there is one (the user's is never overwritten);
    whether it was written."""
    path = folder / ".gitignore"
    if path.exists() or path.is_symlink():
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as f:  # "x": never over one made meanwhile
            f.write(GITIGNORE)
    except FileExistsError:
        return False
    except OSError as exc:
        raise KenningError(f"cannot write {path}: {exc.strerror}") from exc
    return True
