"""`kenning init --hooks`: git hooks that scrape in the background, in real repositories.

Every git command here is real and runs the real hooks. Nothing is timed: a test
waits (with a generous deadline) for what the hook leaves behind, its log and the
database, and proves that git does not wait for kenning by making kenning unable to
finish until the test lets it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import kenning as api
from fixtures.builder import RepoBuilder
from kenning.api.hooks import HOOKS
from kenning.eventlog import database, state
from tests.conftest import Runner
from tests.test_init import git_status, small_repo

DEADLINE = 300.0  # seconds; a loaded machine is slow, a hung hook is still caught


@pytest.fixture(autouse=True)
def _no_global_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own git configuration (a global core.hooksPath) stays out of it."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def wait_for(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def log_of(repo: Path) -> str:
    path = repo / ".kenning" / "hook.log"
    return path.read_text() if path.exists() else ""


def runs_finished(repo: Path) -> bool:
    """Every background run the hooks started has ended (its `== HOOK: exit N` line)."""
    log = log_of(repo)
    started = log.count(": kenning scrape\n")
    return started > 0 and started == sum(log.count(f"== {h}: exit ") for h in HOOKS)


def fake_kenning(tmp_path: Path, body: str) -> str:
    """An executable that stands in for kenning's interpreter (`$python -m kenning scrape`)."""
    path = tmp_path / "fake-python"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def git(repo: RepoBuilder, *args: str) -> subprocess.CompletedProcess[str]:
    """A git command as a user types it (hooks on); a hook that blocks fails the test."""
    return subprocess.run(["git", *args], cwd=repo.path, capture_output=True, text=True,
                          timeout=DEADLINE, check=False,
                          env={**os.environ, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x",
                               "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@x"})


def branch_with_a_commit(repo: RepoBuilder) -> None:
    repo.checkout("HEAD", new_branch="feature")
    repo.commit("Tokenize on tabs", "2025-01-03T10:00:00+00:00",
                {"src/lexer.py": "def tokens(text):\n    return text.split('\\t')\n"})
    repo.checkout("main")


def test_merge_and_checkout_bring_the_database_up_to_date_in_the_background(
        tmp_path: Path, kenning: Runner) -> None:
    repo = small_repo(tmp_path / "repo")
    repo.commit("kenning recipe: no embeddings in this test", "2025-01-02T11:00:00+00:00",
                {".kenning/recipe.toml": "[materialize.embeddings]\nenabled = false\n"})
    init = kenning("init", "--hooks", cwd=repo.path)
    for name in HOOKS:
        assert f".git/hooks/{name}: created" in init.stdout
    branch_with_a_commit(repo)  # its checkouts run the hooks too
    assert git(repo, "merge", "-q", "--no-edit", "feature").returncode == 0
    wait_for("the post-merge scrape", lambda: runs_finished(repo.path)
             and "post-merge: exit" in log_of(repo.path))
    assert "== post-merge: exit 0" in log_of(repo.path)
    db = repo.path / ".kenning" / "kenning.db"
    assert _target(db) == repo.head()

    assert git(repo, "checkout", "-q", "HEAD~1").returncode == 0  # moves HEAD back
    wait_for("the post-checkout scrape",
             lambda: runs_finished(repo.path) and "post-checkout: exit 0" in log_of(repo.path))
    assert _target(db) == repo.head()
    assert git_status(repo.path) == []  # the database, its log: all ignored


def _target(db: Path) -> str | None:
    conn = database.connect(db, write=False)
    try:
        return state.read(conn).target
    finally:
        conn.close()


def test_git_never_waits_for_kenning_nor_fails_with_it(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    (repo.path / ".kenning").mkdir()
    release = tmp_path / "release"
    # a kenning that cannot finish before the test lets it, then fails
    slow = fake_kenning(tmp_path, f'echo "started $*"\nwhile [ ! -e {release} ]; do sleep 0.1; '
                                  'done\necho "kenning: it broke" >&2\nexit 3')
    branch_with_a_commit(repo)
    with api.open(repo.path) as k:
        k.init(hooks=True, python=slow)
    merged = git(repo, "merge", "-q", "--no-edit", "feature")
    assert merged.returncode == 0, merged.stderr  # returned while kenning still runs ...
    assert "post-merge: exit" not in log_of(repo.path)  # ... as it cannot have finished
    release.touch()
    wait_for("the fake kenning to fail", lambda: runs_finished(repo.path))
    log = log_of(repo.path)
    assert "started -m kenning scrape" in log and "kenning: it broke" in log
    assert "== post-merge: exit 3" in log

    # kenning uninstalled, interpreter and all
    with api.open(repo.path) as k:
        k.init(hooks=True, python=str(tmp_path / "gone" / "python"))
    checked_out = git(repo, "checkout", "-q", "HEAD~1")
    assert checked_out.returncode == 0 and checked_out.stderr == ""
    assert "gone/python is gone" in log_of(repo.path)


def test_a_users_hook_still_runs_and_survives_uninstall_byte_for_byte(
        tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    (repo.path / ".kenning").mkdir()
    hooks = repo.path / ".git" / "hooks"
    marker = tmp_path / "user-hook-ran"
    # the user's post-merge ends with `exit 0`: kenning's block must come before it
    theirs = f"#!/bin/sh\n# the team's hook\necho \"merged $1\" >> {marker}\nexit 0\n"
    (hooks / "post-merge").write_text(theirs)
    (hooks / "post-merge").chmod(0o750)
    python_hook = "#!/usr/bin/env python3\nprint('not a shell script')\n"
    (hooks / "post-rewrite").write_text(python_hook)
    (hooks / "post-rewrite").chmod(0o755)
    fake = fake_kenning(tmp_path, 'echo "kenning ran: $*"')
    with api.open(repo.path) as k:
        report = k.init(hooks=True, python=fake)
        actions = {c.path.name: c.action for c in report.changes}
        assert actions["post-merge"] == "added to your hook"
        assert actions["post-checkout"] == "created"
        assert actions["post-rewrite"].startswith("left alone: not a shell script")
        assert not k.init(hooks=True, python=fake).changed  # a second run changes nothing

    branch_with_a_commit(repo)
    assert git(repo, "merge", "-q", "--no-edit", "feature").returncode == 0
    wait_for("kenning's part of the hook", lambda: runs_finished(repo.path)
             and "== post-merge: exit 0" in log_of(repo.path))
    assert "kenning ran: -m kenning scrape" in log_of(repo.path)
    assert marker.read_text() == "merged 0\n"  # the user's hook ran, with its arguments

    with api.open(repo.path) as k:
        k.init(uninstall_hooks=True)
    assert (hooks / "post-merge").read_bytes() == theirs.encode()
    assert stat.S_IMODE((hooks / "post-merge").stat().st_mode) == 0o750
    assert (hooks / "post-rewrite").read_text() == python_hook
    assert not (hooks / "post-checkout").exists()  # kenning's alone: gone


def test_hooks_go_where_git_runs_them_from_and_the_cli_removes_them(
        tmp_path: Path, kenning: Runner) -> None:
    repo = small_repo(tmp_path / "repo")
    repo.git("config", "core.hooksPath", "team-hooks")
    proc = kenning("init", "--hooks", cwd=repo.path)
    assert "team-hooks/post-merge: created" in proc.stdout
    assert sorted(p.name for p in (repo.path / "team-hooks").iterdir()) == sorted(HOOKS)
    hook = (repo.path / "team-hooks" / "post-merge").read_text()
    assert f"python={sys.executable}\n" in hook or f"python='{sys.executable}'\n" in hook
    kenning("init", "--uninstall-hooks", cwd=repo.path)
    assert list((repo.path / "team-hooks").iterdir()) == []

    repo.git("config", "--unset", "core.hooksPath")
    repo.git("worktree", "add", "-q", str(tmp_path / "second"), "-b", "second")
    with api.open(tmp_path / "second") as k:  # a linked worktree
        k.init(hooks=True)
        assert (repo.path / ".git" / "hooks" / "post-merge").exists()  # the hooks git runs
        with pytest.raises(api.KenningError, match="contradict"):
            k.init(hooks=True, uninstall_hooks=True)
