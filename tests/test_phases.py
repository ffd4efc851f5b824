"""What a killed `kenning scrape` leaves (issue 12, item 10), as the README states it.

`kenning scrape` is two transactions here: the eventlog (with its bookkeeping), then
every materialized table together (a third, the embeddings, follows when they are
enabled; these tests leave them off). A kill leaves each whole or untouched. Killed
in the first, the database is as it was. Killed after it, the log is at the new
commit and the tables as they were, `kenning status` names each table that is
behind, scry answers from the old tables, and the next `kenning scrape` (with
nothing new to read) brings them up to date, equal to a rebuild. The kills are
real SIGKILLs at fixed points: the scrape kills itself there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fixtures.builder import RepoBuilder
from kenning.api.handle import open as open_kenning
from kenning.api.status import Status
from tests.conftest import ROOT, Runner

NOTE = "# Session: phases\n\n## Key Decisions\n- {}\n"
# Where the scrape kills itself: a function it calls, replaced by one that kills.
IN_THE_EVENTLOG_TRANSACTION = "kenning.eventlog.store:EventStore.renumber"  # all scraped
BETWEEN_THE_TRANSACTIONS = "kenning.api.handle:Kenning._materialize_in_turn"  # the log committed
IN_THE_TABLES_TRANSACTION = "kenning.materialize.engine:_prune_journal"  # every table built


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    r = RepoBuilder(tmp_path / "repo")
    # embeddings off: loading the model is not what these tests are about
    r.write(".kenning/recipe.toml", "[materialize.embeddings]\nenabled = false\n")
    r.commit("first", "2024-03-01T10:00:00+00:00", {
        "app.py": "def main():\n    return helper()\n\n\ndef helper():\n    return 1\n",
        "layer/sessions/20240301-100000.md": NOTE.format("start small")})
    return r


def killed_scrape(repo: Path, at: str) -> int:
    """`kenning scrape` in a process that SIGKILLs itself when it calls `at`."""
    module, _, attribute = at.partition(":")
    owner, _, name = attribute.rpartition(".")
    script = textwrap.dedent(f"""
        import importlib, os, signal, sys
        owner = importlib.import_module({module!r})
        for part in {owner!r}.split(".") if {owner!r} else []:
            owner = getattr(owner, part)
        setattr(owner, {name!r}, lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))
        from kenning.cli.main import main
        sys.argv = ["kenning", "scrape"]
        main()
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", script], cwd=repo, env=env,
                          capture_output=True, check=False).returncode


SECOND = {
    "app.py": "def main():\n    return helper() + other()\n\n\ndef other():\n    return 2\n",
    "layer/sessions/20240302-100000.md": NOTE.format("grow"),
}


def scrape(repo: Path, db: Path, **options: bool) -> None:
    with open_kenning(repo, db) as k:
        k.scrape(**options)


def digests(repo: Path, db: Path) -> dict[str, str]:
    """The eventlog's digest and each materialized table's, by name."""
    with open_kenning(repo, db) as k:
        report = k.digest(tables=True)
    return {"eventlog": report.digest.sha256, **{t.table: t.sha256 for t in report.tables}}


def status(repo: Path, db: Path) -> Status:
    with open_kenning(repo, db) as k:
        return k.status()


@pytest.mark.parametrize("at", [BETWEEN_THE_TRANSACTIONS, IN_THE_TABLES_TRANSACTION])
def test_a_kill_leaves_each_transaction_whole_and_the_next_scrape_catches_up(
        repo: RepoBuilder, tmp_path: Path, kenning: Runner, at: str) -> None:
    db = repo.path / ".kenning" / "kenning.db"
    scrape(repo.path, db)
    before = digests(repo.path, db)
    second = repo.commit("second", "2024-03-02T10:00:00+00:00", SECOND)

    assert killed_scrape(repo.path, at) == -signal.SIGKILL

    # the eventlog is the new commit's, whole: as a scrape that never materializes makes it
    scrape(repo.path, tmp_path / "log-only.db", materialize=False)
    after_kill = digests(repo.path, db)
    assert after_kill["eventlog"] == digests(repo.path, tmp_path / "log-only.db")["eventlog"]
    assert after_kill["eventlog"] != before["eventlog"]
    # every table is as it was: none half-built
    assert {t: d for t, d in after_kill.items() if t != "eventlog"} == {
        t: d for t, d in before.items() if t != "eventlog"}
    info = status(repo.path, db)
    assert info.target == second
    behind = {name: m["reason"] for name, m in info.materializers.items()
              if m["state"] == "stale"}
    assert set(behind) == {"views", "fts", "co_changes", "expertise", "signals"}
    assert all(reason.endswith("behind the eventlog") for reason in behind.values())
    assert len(info.stale) == len(behind)  # what `kenning status` prints
    with open_kenning(repo.path, db) as k:  # scry answers from the previous tables
        found = k.scry("start small", mode="lexical").results
    assert [r.event_type for r in found] == ["session.decision"]

    # the next scrape has nothing to read, and brings every table up to date
    repaired = kenning("scrape", cwd=repo.path).stdout
    assert "eventlog     unchanged at" in repaired
    assert all(f"{name:<12} caught up" in repaired for name in behind)
    info = status(repo.path, db)
    assert {m["state"] for m in info.materializers.values()} == {"fresh", "disabled"}
    assert info.stale == []
    scrape(repo.path, tmp_path / "fresh.db")
    assert digests(repo.path, db) == digests(repo.path, tmp_path / "fresh.db")


def test_a_kill_in_the_eventlog_transaction_leaves_the_database_as_it_was(
        repo: RepoBuilder, tmp_path: Path, kenning: Runner) -> None:
    db = repo.path / ".kenning" / "kenning.db"
    first = repo.head()
    scrape(repo.path, db)
    before = digests(repo.path, db)
    second = repo.commit("second", "2024-03-02T10:00:00+00:00", SECOND)

    assert killed_scrape(repo.path, IN_THE_EVENTLOG_TRANSACTION) == -signal.SIGKILL

    assert digests(repo.path, db) == before
    info = status(repo.path, db)
    assert info.target == first
    assert [line.split(":")[0] for line in info.stale] == ["eventlog"]
    assert {m["state"] for m in info.materializers.values()} == {"fresh", "disabled"}
    assert f"events at {second[:12]}" in kenning("scrape", cwd=repo.path).stdout
    scrape(repo.path, tmp_path / "fresh.db")
    assert digests(repo.path, db) == digests(repo.path, tmp_path / "fresh.db")


IN_THE_EMBEDDING_RUN = "kenning.materialize.embeddings:EmbeddingsMaterializer.finish"


def test_the_search_index_is_committed_before_the_vectors_are_made(
        tmp_path: Path, kenning: Runner) -> None:
    """A first scrape spends most of its time embedding: lexical answers come before
    that, and an embedding run that is killed leaves them (and every other table)."""
    r = RepoBuilder(tmp_path / "repo")
    r.commit("first", "2024-03-01T10:00:00+00:00", {
        "app.py": "def main():\n    return helper()\n\n\ndef helper():\n    return 1\n",
        "layer/sessions/20240301-100000.md": NOTE.format("start small")})
    db = r.path / ".kenning" / "kenning.db"

    assert killed_scrape(r.path, IN_THE_EMBEDDING_RUN) == -signal.SIGKILL

    info = status(r.path, db)
    states = {name: m["state"] for name, m in info.materializers.items()}
    assert states.pop("embeddings") == "stale"
    assert set(states.values()) == {"fresh"}
    with open_kenning(r.path, db) as k:
        answer = k.scry("start small")
    assert answer.mode == "lexical"
    assert any("no embeddings yet" in note for note in answer.notes)
    assert [x.event_type for x in answer.results][:1] == ["session.decision"]

    repaired = kenning("scrape", cwd=r.path)
    assert "embeddings   rebuilt" in repaired.stdout
    assert "search index is ready" not in repaired.stderr  # it was ready before this run
    with open_kenning(r.path, db) as k:
        assert k.scry("start small").mode == "hybrid"

    # an uninterrupted first scrape says when lexical answers work (stderr: a log here)
    first = kenning("scrape", "--db", str(tmp_path / "second.db"), cwd=r.path).stderr
    assert "kenning: the search index is ready: `kenning scry` answers by words" in first
