"""The code tables' row functions, fed with events from the fixtures."""

from __future__ import annotations

from pathlib import Path

import apsw

from kenning.materialize.base import StoredEvent
from kenning.materialize.views.code import VIEWS
from kenning.scrapers.code import file_events
from kenning.scrapers.code.extract import extract

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "code"


def stored(path: str, language: str) -> list[StoredEvent]:
    out, _ = extract(language, (FIXTURES / path.rsplit("/", 1)[-1]).read_bytes())
    events = file_events(path, "2024-01-01T00:00:00Z", out)
    return [StoredEvent(e.event_id, e.event_type, e.timestamp, e.source_id, e.source_file,
                        e.payload) for e in events]


def load() -> apsw.Connection:
    conn = apsw.Connection(":memory:")
    events = stored("src/sample.py", "python") + stored("src/sample.go", "go")
    for view in VIEWS:
        conn.execute(view.ddl)
        for event in events:
            if event.event_type in view.event_types:
                rows = view.rows(event)
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    conn.executemany(f"INSERT INTO {view.table} VALUES ({marks})", rows)
    return conn


def test_tables_and_indexes() -> None:
    conn = load()
    tables = {v.table for v in VIEWS}
    assert tables == {"functions", "types", "imports", "calls", "symbols"}
    for table in tables:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        assert "event_id" in columns
        indexed = {r[2] for idx in conn.execute(f"PRAGMA index_list({table})")
                   for r in conn.execute(f"PRAGMA index_info({idx[1]})")}
        assert "path" in indexed and indexed & {"name", "module", "callee_name"}


def test_rows() -> None:
    conn = load()
    assert conn.execute(
        "SELECT path, qualified_name, kind, is_async, return_type, start_line FROM functions"
        " WHERE name = 'area'").fetchall() == [("src/sample.py", "Shape.area", "method", 1,
                                                None, 25)]
    assert conn.execute("SELECT kind, json_extract(members, '$[0]') FROM types "
                        "WHERE path = 'src/sample.go' AND name = 'Point'").fetchall() == [
        ("struct", "X")]
    assert conn.execute("SELECT module, names, alias FROM imports WHERE module = 'typing'"
                        ).fetchall() == [("typing", '["Any", "Optional as Opt"]', None)]
    assert conn.execute("SELECT caller, callee, line FROM calls WHERE callee_name = 'ToUpper'"
                        ).fetchall() == [("Point.Area", "str.ToUpper", 36)]
    # one code.call event per caller: a row per (callee, line) it holds
    assert conn.execute("SELECT callee, callee_name, line FROM calls WHERE caller = 'Point.Area'"
                        " ORDER BY callee").fetchall() == [
        ("fmt.Println", "Println", 36), ("str.ToUpper", "ToUpper", 36)]
    kinds = dict(conn.execute("SELECT qualified_name, kind FROM symbols "
                              "WHERE path = 'src/sample.py'").fetchall())
    assert kinds == {"MAX_SIZE": "constant", "Shape": "class", "Shape.sides": "field",
                     "Shape.name": "field", "Shape._cache": "field",
                     "Shape.KIND": "constant", "Shape.__init__": "method",
                     "Shape.unit": "method", "Shape.area": "method",
                     "Shape._hidden": "method", "helper": "function",
                     "helper.inner": "function"}
    (line,) = conn.execute("SELECT line FROM symbols WHERE qualified_name = 'NewPoint'"
                           ).fetchone()
    assert line == 30
