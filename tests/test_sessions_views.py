"""The session tables (kenning/materialize/views/sessions.py), fed events of a real scrape."""

from __future__ import annotations

from pathlib import Path

import apsw

from fixtures import sessions as session_fixture
from kenning.eventlog import database
from kenning.materialize.base import EVENT_COLUMNS, StoredEvent
from kenning.materialize.views.sessions import VIEWS
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import scrape


def _materialize(tmp_path: Path) -> apsw.Connection:
    repo = session_fixture.build(tmp_path / "repo")
    db = tmp_path / "k.db"
    scrape(GitRepo.discover(repo.path), db)
    events = [StoredEvent.from_row(r) for r in database.connect(db, write=False).execute(
        f"SELECT {EVENT_COLUMNS} FROM eventlog ORDER BY seq")]
    conn = apsw.Connection(":memory:")
    for view in VIEWS:
        conn.execute(view.ddl)
        rows = [row for e in events if e.event_type in view.event_types for row in view.rows(e)]
        if rows:
            marks = ",".join("?" * len(rows[0]))
            conn.executemany(f"INSERT INTO {view.table} VALUES ({marks})", rows)
    return conn


def test_session_tables(tmp_path: Path) -> None:
    conn = _materialize(tmp_path)
    for view in VIEWS:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({view.table})")]
        assert columns[0] == "event_id"
        assert conn.execute(f"PRAGMA index_list({view.table})").fetchall()
    sessions = conn.execute(
        "SELECT session_id, title, format, started, utc_offset, path FROM sessions "
        "ORDER BY started").fetchall()
    assert sessions == [
        ("init", "Project init", "freeform", "2024-03-01T09:00:00Z", "+00:00",
         "layer/sessions/init.md"),
        ("20240305-091500", "parser rewrite", "header", "2024-03-05T14:15:00Z", "-05:00",
         "layer/sessions/20240305-091500.md"),
        ("20240305-225000", "Late night cache fix", "frontmatter", "2024-03-06T03:50:00Z",
         "-05:00", "layer/sessions/20240305-225000.md"),
        ("pairing-notes", "pairing on the importer", "header", "2024-03-07T09:00:00Z", "+01:00",
         "layer/sessions/pairing-notes.md"),
        ("20240308-170000-retro", "Sprint retro", "freeform", "2024-03-08T17:00:00Z", "+00:00",
         "layer/sessions/20240308-170000-retro.md"),
    ]
    assert conn.execute("SELECT session_id, classification, files_changed, commits "
                        "FROM session_ends ORDER BY ended").fetchall() == [
        ("20240305-091500", "refactor", 6, 3), ("20240305-225000", "bugfix", 2, 1),
        ("pairing-notes", None, None, None)]
    assert conn.execute("SELECT text, completed FROM goals WHERE session_id = '20240305-091500' "
                        "ORDER BY line").fetchall() == [
        ("Replace the hand-written parser loop", 1), ("Benchmark the new parser", 0),
        ("Keep the public API unchanged", 1)]
    counts = dict(conn.execute("SELECT type, count(*) FROM observations GROUP BY type"))
    assert counts == {"decision": 6, "pattern": 2, "challenge": 2, "work": 5, "context": 4,
                      "note": 8}
    assert conn.execute(
        "SELECT session_id, timestamp, section, block, block_title, line, path FROM observations "
        "WHERE text = 'Key the cache by blob id, not path'").fetchall() == [
        ("20240305-225000", "2024-03-06T04:40:00Z", "Key Decisions", 1,
         "Update (covering since 22:50)", 28, "layer/sessions/20240305-225000.md")]
