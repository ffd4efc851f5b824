"""The public Python handle: kenning.open, scrape, scry, code lookups, events, projections."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

import kenning
from fixtures import history
from fixtures.builder import BOB, CAROL, RepoBuilder
from kenning.eventlog.reader import StoredEvent
from tests.conftest import ROOT


def open_fds(path: Path) -> int:
    """How many of this process's file descriptors point at `path` (or its -wal/-shm)."""
    names = {str(path), f"{path}-wal", f"{path}-shm"}
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") in names
        except OSError:
            continue
    return count


def test_open_scrape_scry_close(history_repo: Path) -> None:
    db = history_repo / ".kenning" / "kenning.db"
    with kenning.open(history_repo / "src") as k:  # any directory inside the repository
        report = k.scrape(embed=False)
        assert k.db_path == db and report.scrape.added > 0
        assert {r.name for r in report.materialized} >= {"views", "fts"}
        answer = k.scry("parser tabs", mode="lexical", limit=3)
        top = answer.results[0]
        assert isinstance(top, kenning.Result)
        assert (top.kind, top.path) == ("code", "src/parser.py")
        assert top.evidence[0]["title"] == "Parser handles tabs"  # why the file is here
        assert top.as_json()["paths"] == ["src/parser.py"]
        assert [d.qualified_name for d in k.definitions("parse")] == ["parse"]
        assert open_fds(db) > 0
    assert open_fds(db) == 0  # the handle closed what it opened


def test_a_database_outside_any_repository_can_be_read_not_scraped(
        history_repo: Path, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    with kenning.open(history_repo, db) as k:
        k.scrape(materialize=False)
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    with kenning.open(elsewhere, db) as k:
        assert k.status().target is not None
        assert k.digest().digest.total == k.status().events
        with pytest.raises(kenning.KenningError, match="needs the git repository"):
            k.scrape()


def test_events_come_in_seq_order_filtered_by_type_and_time(history_repo: Path) -> None:
    with kenning.open(history_repo) as k:
        k.scrape(materialize=False)
        commits = list(k.events(types=("git.commit",)))
        assert all(isinstance(e, StoredEvent) and e.event_type == "git.commit" for e in commits)
        assert [e.sort_key() for e in commits] == sorted(e.sort_key() for e in commits)
        january = list(k.events(types=("git.",), since="2024-01-05T00:00:00Z",
                                until="2024-01-07T23:59:59Z"))
        assert {e.data.get("subject") or e.source_id for e in january} == {
            "Move app.py to core.py", "Add logo", "Add caf\u00e9 notes", "v0.1.0"}


def subjects_in_order(state: list[str], event: StoredEvent) -> list[str]:
    """A fold that depends on order: exactly where a late event lands matters."""
    return [*state, event.data["subject"]]


def commits_per_author(state: dict[str, int], event: StoredEvent) -> dict[str, int]:
    name = event.data["author"]["name"]
    return {**state, name: state.get(name, 0) + 1}


def test_a_projection_kept_incrementally_equals_one_built_from_nothing(
        tmp_path: Path) -> None:
    r = RepoBuilder(tmp_path / "repo")
    r.commit("one", "2024-01-01T10:00:00+00:00", {"a.txt": "1\n"})
    r.checkout("HEAD", new_branch="side")
    r.commit("early side work", "2024-01-02T10:00:00+00:00", {"b.txt": "b\n"}, author=CAROL)
    r.checkout("main")
    r.commit("two", "2024-01-03T10:00:00+00:00", {"a.txt": "2\n"}, author=BOB)
    calls: list[str] = []

    def counted(state: list[str], event: StoredEvent) -> list[str]:
        calls.append(event.data["subject"])
        return subjects_in_order(state, event)

    with kenning.open(r.path) as k:
        k.scrape(embed=False)
        assert k.project("subjects", counted, [], types=("git.commit",)) == ["one", "two"]
        r.commit("three", "2024-01-04T10:00:00+00:00", {"a.txt": "3\n"})
        k.scrape(embed=False)  # materializing prunes the journal: the projection keeps its part
        calls.clear()
        assert k.project("subjects", counted, [], types=("git.commit",))[-1] == "three"
        assert calls == ["three"]  # only what the log gained
        # an old branch merged today: its commit sorts before what was folded
        r.merge("side", "Merge side", "2024-01-05T10:00:00+00:00")
        k.scrape(embed=False)
        incremental = k.project("subjects", counted, [], types=("git.commit",))
        authors = k.project("authors", commits_per_author, {}, types=("git.commit",))
    with kenning.open(r.path, tmp_path / "fresh.db") as fresh:
        fresh.scrape(materialize=False)
        assert fresh.project("subjects", subjects_in_order, [],
                             types=("git.commit",)) == incremental
        assert fresh.project("authors", commits_per_author, {},
                             types=("git.commit",)) == authors
    assert incremental == ["one", "early side work", "two", "three", "Merge side"]
    assert authors == {"Alice Example": 3, "Bob Builder": 1, "Carol Coder": 1}


def test_a_new_version_of_a_projection_rebuilds_it(history_repo: Path) -> None:
    with kenning.open(history_repo) as k:
        k.scrape(materialize=False)
        assert k.project("n", lambda n, e: n + 1, 0, types=("git.tag",)) == 2
        assert k.project("n", lambda n, e: n + 10, 0, types=("git.tag",)) == 2  # kept
        assert k.project("n", lambda n, e: n + 10, 0, types=("git.tag",), version=2) == 20
        assert k.drop_projection("n") and not k.drop_projection("n")


def test_a_projection_state_must_be_json(history_repo: Path) -> None:
    with kenning.open(history_repo) as k:
        k.scrape(materialize=False)
        with pytest.raises(kenning.KenningError, match="must be JSON"):
            k.project("bad", lambda s, e: {1, 2}, [])


def readme_python() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README shows the Python API"
    return "\n".join(blocks)


def test_the_readmes_python_examples_run(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    history.build(tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    scope: dict[str, Any] = {}
    exec(compile(readme_python(), "README.md", "exec"), scope)  # noqa: S102
    assert scope["k"].db_path.is_file()
