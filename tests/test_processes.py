"""A scrape that is killed or interrupted while its worker processes run: no process
of it survives, and the database is as it was (issue 12, item 9).

Each test starts a real `kenning scrape` in its own process group on a repository
large enough for both process pools (fixtures/workload.py), waits until a worker
is parsing, stops the scrape itself (SIGSTOP) so that the pool is certainly alive
and its workers wait on it when the signal lands, signals the scrape, and waits
(a generous deadline, no timing asserted) until nothing of the process group is
left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures import workload
from tests.conftest import ROOT, Runner

DEADLINE = 60.0  # seconds: only a hung process takes this long


@pytest.fixture(scope="module")
def busy_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workload") / "repo"
    workload.build(path)
    return path


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, parent, process group, CPU ticks used) of a process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[11]) + int(fields[12])


def _processes() -> Iterator[tuple[int, str, int, int, int]]:
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            yield int(entry), *stat


def group_members(group: int) -> list[int]:
    """Processes of a process group that still run (zombies hold nothing open)."""
    return [pid for pid, state, _, pgrp, _ in _processes() if pgrp == group and state != "Z"]


def workers_of(parent: int) -> dict[int, int]:
    """Children of `parent` that run Python (pool workers, not git): their CPU ticks."""
    found = {}
    for pid, state, ppid, _, ticks in _processes():
        if ppid == parent and state != "Z":
            try:
                if Path(f"/proc/{pid}/exe").resolve() == Path(sys.executable).resolve():
                    found[pid] = ticks
            except OSError:
                continue
    return found


def start_scrape(repo: Path, db: Path, tmp: Path, *args: str) -> subprocess.Popen[bytes]:
    """`kenning scrape` in a process group of its own, as a terminal starts it; its output
    goes to files (a pipe would stay open as long as any process that inherited it lives)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp / "cold-cache")}
    with open(tmp / "stdout", "wb") as out, open(tmp / "stderr", "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "kenning", "scrape", *args, "--no-materialize", "--workers",
             "2", "--db", str(db)], cwd=repo, env=env, stdout=out, stderr=err,
            start_new_session=True, preexec_fn=_as_from_a_terminal)


def _as_from_a_terminal() -> None:
    """Ctrl-C and a closing terminal reach a foreground command. A test suite started in
    the background (`scripts/test &`) has both ignored, and an ignored signal is inherited:
    kenning honours it (as `nohup` means it to), so the signal tests would see a scrape
    that runs on. They set what a terminal gives."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def stop_while_workers_run(proc: subprocess.Popen[bytes]) -> list[int]:
    """Waits until a worker is parsing, then stops the scrape itself (SIGSTOP) and waits
    until its workers have done what they can without it: they then sit blocked on
    the pipes to the scrape, the state the issue found them in after a kill."""
    deadline = time.monotonic() + DEADLINE
    workers = workers_of(proc.pid)
    while not any(ticks >= 3 for ticks in workers.values()):  # 30 ms of work
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("no worker ran before the scrape ended")
        time.sleep(0.005)
        workers = workers_of(proc.pid)
    os.kill(proc.pid, signal.SIGSTOP)
    while time.monotonic() < deadline:  # settled: no worker used CPU for half a second
        time.sleep(0.5)
        now = workers_of(proc.pid)
        if now == workers:
            break
        workers = now
    return list(workers)


MASKS: dict[int, str] = {}  # scrape pid -> its signal masks when it was signalled


def signal_masks(pid: int) -> str:
    """The blocked, ignored and caught signal masks of a process (/proc), for a failure
    message: a signal that never arrives is blocked or ignored in the process."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "gone"
    return " ".join(line.replace("\t", "") for line in lines
                    if line.startswith(("State", "SigBlk", "SigIgn", "SigCgt")))


def signal_while_workers_run(proc: subprocess.Popen[bytes], how: signal.Signals,
                             to_group: bool) -> int:
    """Signals the scrape (or its whole group, as a terminal does) while its workers are
    busy; returns the scrape's exit code."""
    stop_while_workers_run(proc)
    MASKS[proc.pid] = signal_masks(proc.pid)
    if to_group:
        os.killpg(proc.pid, how)
    else:
        os.kill(proc.pid, how)
    if how != signal.SIGKILL:
        os.kill(proc.pid, signal.SIGCONT)
    try:
        return proc.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("the scrape did not stop") from None


def assert_nothing_left(group: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while (left := group_members(group)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:  # clean up before failing, so no stray process outlives the test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes of the killed scrape still run: {left}"


def digest_all(kenning: Runner, repo: Path, db: Path) -> str:
    return kenning("digest", "--all", "--db", str(db), cwd=repo).stdout


@pytest.mark.parametrize("scraper", ["code", "sessions"])
def test_sigkill_leaves_no_worker_and_the_database_as_it_was(
        busy_repo: Path, tmp_path: Path, kenning: Runner, scraper: str) -> None:
    db = tmp_path / "k.db"
    kenning("scrape", "git", "--no-materialize", "--db", str(db), cwd=busy_repo)
    before = digest_all(kenning, busy_repo, db)
    proc = start_scrape(busy_repo, db, tmp_path, scraper)
    assert signal_while_workers_run(proc, signal.SIGKILL, to_group=False) == -signal.SIGKILL
    assert_nothing_left(proc.pid)
    assert digest_all(kenning, busy_repo, db) == before
    kenning("scrape", scraper, "--no-materialize", "--db", str(db), cwd=busy_repo)  # works


@pytest.mark.parametrize(("scraper", "how", "to_group"), [
    ("code", signal.SIGTERM, False),     # `kill PID`
    ("sessions", signal.SIGHUP, True),   # the terminal closes
    ("code", signal.SIGINT, True),       # Ctrl-C
])
def test_a_stop_signal_rolls_back_a_first_scrape_and_stops_every_worker(
        busy_repo: Path, tmp_path: Path, scraper: str, how: signal.Signals,
        to_group: bool) -> None:
    db = tmp_path / "k.db"
    proc = start_scrape(busy_repo, db, tmp_path, scraper)
    code = signal_while_workers_run(proc, how, to_group)
    stderr = (tmp_path / "stderr").read_text()
    # stdout too: a scrape that ended normally prints its summary there
    assert code == 128 + how, (stderr, (tmp_path / "stdout").read_text(), MASKS[proc.pid])
    assert stderr.splitlines()[-1].startswith("kenning: interrupted")
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert_nothing_left(proc.pid)
    assert not db.exists()  # the first scrape left nothing behind


def test_a_git_process_writing_into_a_file_dies_with_kenning(history_repo: Path) -> None:
    """A spooled git (the shared `git log` of a long history) writes into a file, so
    no broken pipe ends it: the kernel must. Here it is stopped, as if its log were
    endless, and the process that started it is killed."""
    script = textwrap.dedent("""
        import os, signal, sys, time
        from pathlib import Path
        from kenning.repository.gitrepo import GitRepo
        repo = GitRepo.discover(Path(sys.argv[1]))
        while True:  # until git is caught running (a short log may end first)
            spooled = repo.spool("log", "--format=%H", "HEAD", stdin=b"")
            pid = spooled._proc.pid
            os.kill(pid, signal.SIGSTOP)
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat[stat.rindex(")") + 2] == "T":
                break
            spooled.close()
        print(pid, flush=True)
        time.sleep(600)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    starter = subprocess.Popen([sys.executable, "-c", script, str(history_repo)], env=env,
                               stdout=subprocess.PIPE, text=True)
    assert starter.stdout is not None
    git = int(starter.stdout.readline())
    assert (_stat(git) or ("gone",))[0] == "T"
    starter.kill()
    starter.wait()
    deadline = time.monotonic() + DEADLINE
    while (stat := _stat(git)) is not None and stat[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    if stat is not None and stat[0] != "Z":
        os.kill(git, signal.SIGKILL)
        raise AssertionError("git outlived the process that started it")
