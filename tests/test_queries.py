"""Cross-cutting queries over fixtures/cochange.py plus hand-made session decisions."""

from __future__ import annotations

import json
from pathlib import Path

import apsw
import pytest

from fixtures import cochange
from kenning.eventlog import database
from kenning.eventlog.events import make_event
from kenning.eventlog.store import EventStore
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import scrape
from kenning.scry import queries

D = "2024-03-{:02d}T12:00:00Z".format
KEEP = "Keep a.py and lib/e.py separate."  # names a path, and a path renamed later
DATA = "Use `d.py` for data loading"
NONE = "Prefer small commits"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("queries")
    cochange.build(root / "repo")
    path = root / "kenning.db"
    scrape(GitRepo.discover(root / "repo"), path, scrapers=["git"])
    conn = database.connect(path, write=True)
    with database.write_transaction(conn, path):
        store = EventStore(conn)
        store.add_unit("test", "s1", "x", "ok", [
            make_event("session.decision", ts, "session-1", "layer/sessions/s1.md",
                       {"session_id": "session-1", "text": text, "section": "Key Decisions"})
            for ts, text in [("2024-03-05T18:00:00Z", KEEP), ("2024-03-14T13:00:00Z", DATA),
                             ("2024-03-20T09:00:00Z", NONE)]])
        store.renumber()
    conn.close()
    return path


@pytest.fixture
def conn(db: Path) -> apsw.Connection:
    return database.connect(db, write=False)


def test_decisions_context(conn: apsw.Connection) -> None:
    got = queries.decisions_context(conn)
    assert [d["text"] for d in got] == [KEEP, DATA, NONE]
    # KEEP at 03-05 18:00: commits from 02-27 18:00 up to it -> C1..C5
    assert [c["subject"] for c in got[0]["commits"]] == ["C1", "C2", "C3", "C4", "C5"]
    # DATA at 03-14 13:00: from 03-07 13:00 (C6 at 12:00 is just outside) -> C7..M
    assert [c["subject"] for c in got[1]["commits"]] == ["C7", "S1", "C8", "C9", "E2", "BIG",
                                                         "M"]
    # NONE at 03-20 09:00: from 03-13 09:00 -> BIG M C12 F1 C13
    assert [c["subject"] for c in got[2]["commits"]] == ["BIG", "M", "C12", "F1", "C13"]
    assert got[0]["session"] == "session-1" and got[0]["commits"][1]["author"] == "Bob Builder"
    assert [d["text"] for d in queries.decisions_context(conn, limit=1)] == [KEEP]
    assert [c["subject"] for c in queries.decisions_context(conn, days=1)[0]["commits"]] == [
        "C5"]


def test_decision_impact(conn: apsw.Connection) -> None:
    got = queries.decision_impact(conn)
    assert [d["text"] for d in got] == [KEEP, DATA]  # NONE names no file
    keep, data = got
    assert keep["files"] == ["a.py", "lib/e.py"]
    # 03-05 18:00 .. 03-19 18:00, non-merge commits touching a.py or lib/e.py
    # (BIG renamed lib/e.py away: it lists lib/f.py, and counts for a.py)
    assert [(c["subject"], c["files"]) for c in keep["commits"]] == [
        ("E1", ["lib/e.py"]), ("C7", ["a.py"]), ("C8", ["a.py"]), ("C9", ["a.py"]),
        ("E2", ["lib/e.py"]), ("BIG", ["a.py"])]
    # d.py: the merge M (03-14 12:00) is before the decision; C12 and C13 after
    assert data["files"] == ["d.py"]
    assert [c["subject"] for c in data["commits"]] == ["C12", "C13"]
    assert [c["subject"] for c in queries.decision_impact(conn, days=2)[1]["commits"]] == ["C12"]


def test_named_files() -> None:
    paths = {"src/app/main.py", "main.py", "docs/README.md", "lib/e.py"}
    # an exact path wins over tails; a bare name matches every path ending in it
    assert queries.named_files("see main.py and e.py, not README", paths) == [
        "lib/e.py", "main.py"]
    assert queries.named_files("see app/main.py", paths) == ["src/app/main.py"]
    assert queries.named_files("(docs/README.md)", paths) == ["docs/README.md"]
    assert queries.named_files("nothing here", paths) == []


# Non-merge commits per author and file (see fixtures/cochange.py):
#   Alice: a.py C1 C3 C4 C7 C8 BIG (6), b.py C1 C3 C4 C7 BIG (5), old.py C1 C4 (2),
#          new.py C7 (1), lib/f.py BIG (1), lib/e.py, g.py, gen/*
#   Bob:   a.py C2 C9 (2), b.py C2 C6 C9 (3), old.py C2 (1), new.py C6 (1), lib/f.py F1 (1)
#   Carol: a.py C5 (1), old.py C5 C13 (2), c.py, d.py
# Alice+Bob share a.py b.py lib/f.py new.py old.py: 5 files, 6+5+1+1+2 = 15 vs 2+3+1+1+1 = 8
# Alice+Carol share a.py old.py: 6+2 = 8 vs 1+2 = 3;  Bob+Carol a.py old.py: 2+1 = 3 vs 3
def test_collaboration(conn: apsw.Connection) -> None:
    got = queries.collaboration(conn)
    assert [(p["author"], p["other"], p["shared_files"], p["author_commits"],
             p["other_commits"]) for p in got] == [
        ("alice@example.com", "bob@example.com", 5, 15, 8),
        ("alice@example.com", "carol@example.com", 2, 8, 3),
        ("bob@example.com", "carol@example.com", 2, 3, 3)]
    assert got[0]["files"] == ["a.py", "b.py", "lib/f.py", "new.py", "old.py"]
    assert (got[0]["author_name"], got[0]["other_name"]) == ("Alice Example", "Bob Builder")
    assert len(queries.collaboration(conn, limit=1)) == 1


def test_cli(db: Path, tmp_path: Path, kenning) -> None:  # type: ignore[no-untyped-def]
    proc = kenning("query", "collaboration", "--json", "--db", str(db), "--limit", "2",
                   cwd=tmp_path)
    pairs = json.loads(proc.stdout)["pairs"]
    assert [p["shared_files"] for p in pairs] == [5, 2]
    proc = kenning("query", "decision-impact", "--db", str(db), cwd=tmp_path)
    assert "Use `d.py` for data loading  [d.py]" in proc.stdout
    assert "C13" in proc.stdout
    proc = kenning("query", "decisions-context", "--json", "--db", str(db), "--limit", "1",
                   cwd=tmp_path)
    (decision,) = json.loads(proc.stdout)["decisions"]
    assert decision["text"] == KEEP and len(decision["commits"]) == 5
    missing = kenning("query", "collaboration", "--db", str(tmp_path / "none.db"),
                      cwd=tmp_path, check=False)
    assert missing.returncode != 0 and "kenning scrape" in missing.stderr
