"""Child processes that never outlive kenning: worker pools and the git processes.

A forked worker inherits every file kenning has open: the database, and the pipes
of the git processes that were running when it was forked. If kenning is killed
(SIGKILL, out of memory), a worker blocked on a pipe to it waits forever, holding
them all. So on Linux the kernel kills every child when kenning ends
(`prctl(PR_SET_PDEATHSIG)`); elsewhere a pool worker watches its parent.

The "parent" the kernel watches is the thread that started the child. Pools fork
their workers in the thread that submits the first job, and git is started
where it is read, all in kenning's main thread; a child started from another
thread would be killed when that thread ends.

The one child meant to outlive kenning, the background fill of re-ranking vectors, is
started detached by kenning/embed/fill.py; `alive` tells when it has ended.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

LINUX = sys.platform.startswith("linux")
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# Looked up now: between fork and exec (preexec_fn) nothing may take the loader's lock.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if LINUX else None


def this_kenning(module: str, *args: str) -> list[str]:
    """The command line that runs `module` of this kenning in a child python. `-P`: a
    `kenning` folder in the child's current directory (a clone of kenning itself) must
    not shadow the installed one, which `python -m` would otherwise import first."""
    return [sys.executable, "-P", "-m", module, *args]


def die_with_parent() -> None:
    """In a new child (a pool worker's start, or `preexec_fn` before git runs): the
    kernel sends it SIGKILL when its parent ends. Linux only; elsewhere nothing."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


# For `subprocess.Popen(preexec_fn=...)`. Costly: a preexec_fn makes Python fork the
# whole process instead of vfork (85 ms at 300 MB resident on a loaded machine, against
# 3 ms), so only a git process that would run on alone uses it: one that writes into
# a file (GitRepo.spool). A git process writing into a pipe dies of SIGPIPE with us.
PREEXEC_DIE_WITH_PARENT = die_with_parent if _prctl is not None else None


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers end with kenning. Shut it down with
    `shutdown(cancel_futures=True)`, so an interrupted run does not parse on."""
    # imported here (~5 ms): every command imports this module through git, only a
    # scrape starts a pool
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if LINUX else "spawn"
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=_start_worker, initargs=(os.getpid(),))


def _start_worker(parent: int) -> None:
    # Ctrl-C and a closing terminal signal the whole process group: kenning stops its
    # workers itself, so they ignore those (no traceback from each). SIGTERM ends a
    # worker, as the pool expects when it stops a broken pool (a forked worker would
    # otherwise inherit kenning's handler, see kenning/cli/main.py).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _prctl is not None:
        die_with_parent()
    else:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent ended before the line above took effect
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def alive(pid: int) -> bool:
    """Whether process `pid` runs, a zombie not counted (a detached child such as the
    background fill is reaped by init, some time after it ends). Linux: /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
