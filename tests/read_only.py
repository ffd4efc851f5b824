"""Running kenning with a folder read-only, as on a read-only mount.

root ignores file modes, so as root the folder is bind-mounted read-only in a
private mount namespace (`unshare`, as a user namespace's root); anyone else
simply loses the write bits for the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_MOUNT_READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'


def run_read_only(folder: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kenning", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if os.geteuid() == 0:
        command = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                   _MOUNT_READ_ONLY, str(folder), *command]
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              check=False)
    paths = [folder, *folder.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    try:
        for p in paths:
            p.chmod(modes[p] & ~0o222)
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              check=False)
    finally:
        for p in reversed(paths):
            p.chmod(modes[p])
