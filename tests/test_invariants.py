"""The eventlog invariants I1, I2 and I4 of DESIGN.md §2."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import apsw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures import synthetic
from fixtures.builder import ALICE, BOB, CAROL, RepoBuilder
from kenning.eventlog import database
from kenning.eventlog.digest import digest
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import scrape
from tests.conftest import ROOT


def _digest(db: Path) -> str:
    return digest(database.connect(db, write=False)).sha256


# -- I1: determinism -----------------------------------------------------------


def test_i1_same_digest_under_other_timezone_locale_hashseed_and_cwd(
    history_repo: Path, tmp_path: Path, kenning
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    runs = [
        ({"TZ": "UTC", "LANG": "C", "PYTHONHASHSEED": "0"}, history_repo),
        ({"TZ": "Asia/Kolkata", "LANG": "de_DE.UTF-8", "LC_ALL": "tr_TR.UTF-8",
          "PYTHONHASHSEED": "12345"}, elsewhere),
    ]
    digests = []
    for i, (env, cwd) in enumerate(runs):
        db = tmp_path / f"run{i}.db"
        kenning("scrape", "--no-materialize", "--repo", str(history_repo), "--db", str(db),
                cwd=cwd, env=env)
        out = kenning("digest", "--db", str(db), "--json", cwd=cwd, env=env)
        digests.append(json.loads(out.stdout)["sha256"])
    assert digests[0] == digests[1]


# -- I2: incremental = full -------------------------------------------------------

_PEOPLE = [ALICE, BOB, CAROL]
_operation = st.one_of(
    st.tuples(st.just("commit"), st.integers(0, 4), st.integers(-40, 72), st.integers(0, 2)),
    st.tuples(st.just("branch"), st.integers(0, 50)),
    st.tuples(st.just("switch"), st.integers(0, 50)),
    st.tuples(st.just("merge"), st.integers(0, 50)),
    st.tuples(st.just("rewrite"), st.integers(1, 3)),
    st.tuples(st.just("tag"), st.integers(0, 50)),
    st.tuples(st.just("scrape")),
)


class _Dag:
    """Applies generated operations to a real repository."""

    def __init__(self, path: Path) -> None:
        self.repo = RepoBuilder(path)
        self.clock = 1_704_067_200  # 2024-01-01
        self.branches = ["main"]
        self.current = "main"
        self.n = 0
        self.commit(0, 0, 0)

    def date(self, hours: int) -> str:
        self.clock += 3600
        return f"@{self.clock + hours * 3600} +0100"  # hours < 0: back-dated

    def commit(self, file: int, hours: int, who: int) -> None:
        self.n += 1
        path = f"f{file}.txt"
        old = (self.repo.path / path).read_text() if (self.repo.path / path).exists() else ""
        self.repo.commit(f"change {self.n}", self.date(hours),
                         {path: old + f"line {self.n}\n"}, author=_PEOPLE[who])

    def apply(self, op: tuple) -> bool:
        """Returns True when the operation asks for an intermediate scrape."""
        kind = op[0]
        if kind == "commit":
            self.commit(op[1], op[2], op[3])
        elif kind == "branch":
            name = f"b{len(self.branches)}"
            self.repo.checkout("HEAD", new_branch=name)
            self.branches.append(name)
            self.current = name
        elif kind == "switch":
            self.current = self.branches[op[1] % len(self.branches)]
            self.repo.checkout(self.current)
        elif kind == "merge":
            other = self.branches[op[1] % len(self.branches)]
            if other != self.current:
                try:
                    self.repo.merge(other, f"merge {other}", self.date(0))
                except RuntimeError:  # conflict: give up on this merge
                    self.repo.git("merge", "--abort")
        elif kind == "rewrite":  # a force-push: drop the last commits, commit anew
            count = int(self.repo.git("rev-list", "--count", "HEAD"))
            if count > op[1]:
                self.repo.git("reset", "-q", "--hard", f"HEAD~{op[1]}")
                self.commit(op[1], 1, 1)
        elif kind == "tag":
            self.repo.tag(f"t{op[1]}", self.date(0), message=f"tag {op[1]}")  if not self.has_tag(
                f"t{op[1]}") else None
        return kind == "scrape"

    def has_tag(self, name: str) -> bool:
        return bool(self.repo.git("tag", "-l", name))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(_operation, min_size=3, max_size=18))
def test_i2_incremental_scrapes_equal_one_full_scrape(tmp_path_factory, ops: list) -> None:
    base = tmp_path_factory.mktemp("i2")
    dag = _Dag(base / "repo")
    repo = GitRepo.discover(dag.repo.path)
    incremental = base / "incremental.db"
    for op in ops:
        if dag.apply(op):
            scrape(repo, incremental)
    scrape(repo, incremental)
    scrape(repo, base / "full.db")
    assert _digest(incremental) == _digest(base / "full.db")


def test_i2_after_a_force_push_rewrite(history_repo: Path, tmp_path: Path) -> None:
    repo = GitRepo.discover(history_repo)
    scrape(repo, tmp_path / "inc.db")
    r = RepoBuilder.__new__(RepoBuilder)
    r.path = history_repo
    r.git("reset", "-q", "--hard", "HEAD~3")
    r.commit("rewritten history", "2024-03-01T00:00:00+00:00", {"new.txt": "x\n"})
    scrape(repo, tmp_path / "inc.db")
    scrape(repo, tmp_path / "full.db")
    assert _digest(tmp_path / "inc.db") == _digest(tmp_path / "full.db")
    conn = database.connect(tmp_path / "inc.db", write=False)
    subjects = {json.loads(d)["subject"] for (d,) in conn.execute(
        "SELECT data FROM eventlog WHERE event_type = 'git.commit'")}
    assert "rewritten history" in subjects and "Merge branch 'old-feature'" not in subjects


# -- I4: atomic -------------------------------------------------------------------


def test_i4_a_killed_scrape_leaves_a_usable_database(tmp_path: Path) -> None:
    repo_path = tmp_path / "big"
    synthetic.build(repo_path, commits=6000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(db: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "kenning", "scrape", "git", "--full",
                                 "--no-materialize", "--db", str(db)], cwd=repo_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    reference = tmp_path / "reference.db"
    began = time.monotonic()
    assert start(reference).wait() == 0
    duration = time.monotonic() - began  # kill moments are spread over one whole run
    db = tmp_path / "killed.db"
    rng = random.Random(7)  # fixed seed: the same kill moments on every run
    killed_midway = 0
    for _ in range(5):
        proc = start(db)
        time.sleep(rng.uniform(0.2, 0.9) * duration)
        killed_midway += proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if db.exists():  # whatever moment it died at, the file opens and is consistent
            conn = apsw.Connection(str(db))
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            conn.close()
    assert killed_midway >= 3  # the test means something only if scrapes really died
    scrape(GitRepo.discover(repo_path), db, scrapers=["git"])
    assert _digest(db) == _digest(reference)


# -- I5: nothing from outside the repository -----------------------------------------


def test_i5_no_path_user_host_environment_or_wall_clock_enters_an_event(
    tmp_path: Path, kenning
) -> None:
    from fixtures import history

    repo = tmp_path / "I5MARKERDIR" / "repo"
    history.build(repo)
    env = {"USER": "i5markeruser", "LOGNAME": "i5markeruser", "HOSTNAME": "i5markerhost",
           "HOME": str(tmp_path / "i5markerhome"), "KENNING_MARKER": "i5markerenv"}
    kenning("scrape", "--no-embed", cwd=repo, env=env)
    dump = kenning("export", cwd=repo, env=env).stdout
    assert dump.count("\n") >= 17  # commits, tags and code facts
    for marker in ("I5MARKERDIR", "i5markeruser", "i5markerhost", "i5markerhome",
                   "i5markerenv", str(tmp_path)):
        assert marker not in dump
    today = time.strftime("%Y-%m-%d", time.gmtime())
    timestamps = [json.loads(line)["timestamp"] for line in dump.splitlines()]
    assert max(timestamps) < "2024-03-01" < today  # every time comes from the history
