"""The code tables' row functions, fed with events from the fixtures, and the
lookups by name that read them."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from kenning.errors import KenningError
from kenning.materialize.base import StoredEvent
from kenning.materialize.views.code import VIEWS, callee_name
from kenning.scrapers.code import file_events
from kenning.scrapers.code.extract import extract
from kenning.scry.code_lookup import callers, definitions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "code"


def stored(path: str, language: str) -> list[StoredEvent]:
    out, _ = extract(language, (FIXTURES / path.rsplit("/", 1)[-1]).read_bytes())
    events = file_events(path, "2024-01-01T00:00:00Z", out)
    return [StoredEvent(e.event_id, e.event_type, e.timestamp, e.source_id, e.source_file,
                        e.payload) for e in events]


def load() -> apsw.Connection:
    conn = apsw.Connection(":memory:")
    events = stored("src/sample.py", "python") + stored("src/sample.go", "go") \
        + stored("src/sample.js", "javascript")
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


def test_definitions_by_name_or_qualified_name() -> None:
    conn = load()
    found = [(d.path, d.line, d.kind, d.qualified_name)
             for d in definitions(conn, "area")]
    assert found == [("src/sample.py", 25, "method", "Shape.area")]
    assert definitions(conn, "Shape.area") == definitions(conn, "area")
    assert [d.path for d in definitions(conn, "Point")] == ["src/sample.go"]
    assert definitions(conn, "Point", path="src/*.py") == []


def test_callers_by_name_or_the_end_of_the_callee() -> None:
    conn = load()
    found = [(d.path, d.line, d.caller, d.callee) for d in callers(conn, "join")]
    assert found == [("src/sample.js", 27, "load", "join"),
                     ("src/sample.py", 36, "helper.inner", "os.path.join")]
    assert callers(conn, "path.join") == callers(conn, "os.path.join") == callers(conn, "join")[1:]
    assert callers(conn, "s.path.join") == []  # the end of the callee, part by part
    assert [d.caller for d in callers(conn, "ToUpper", path="src/*.go")] == ["Point.Area"]
    php = apsw.Connection(":memory:")
    php.execute(next(v.ddl for v in VIEWS if v.table == "calls"))
    php.execute("INSERT INTO calls VALUES ('e', 'a.php', 'A.run', '$handler->handle', "
                "'handle', 3, 'php')")
    assert [d.line for d in callers(php, "handler.handle")] == [3]  # PHP's $ and ->
    constructed = [(d.caller, d.callee) for d in callers(conn, "Counter")]
    assert constructed == [("Counter.create", "new Counter")]  # `new X` calls X


def test_lookups_say_when_the_tables_are_not_built() -> None:
    conn = apsw.Connection(":memory:")
    for lookup in (callers, definitions):
        with pytest.raises(KenningError, match="kenning materialize views"):
            lookup(conn, "x")


def test_query_definitions_and_callers_from_the_shell(tmp_path: Path, kenning) -> None:  # type: ignore[no-untyped-def]
    import json

    from fixtures.builder import RepoBuilder

    repo = tmp_path / "repo"
    RepoBuilder(repo).commit("Add a tool", "2024-03-01T10:00:00+00:00", {
        "tool.py": "def helper(x):\n    return x\n\n\nclass Tool:\n    def run(self):\n"
                   "        return helper(1) + self.helper2()\n\n    def helper2(self):\n"
                   "        return helper(2)\n"})
    bare = kenning("scrape", "--no-materialize", cwd=repo, check=False)
    assert bare.returncode == 0
    unbuilt = kenning("query", "callers", "helper", cwd=repo, check=False)
    assert unbuilt.returncode != 0 and "kenning materialize views" in unbuilt.stderr
    assert len(unbuilt.stderr.strip().splitlines()) == 1
    kenning("scrape", "--no-embed", cwd=repo)
    calls = json.loads(kenning("query", "callers", "helper", "--json", cwd=repo).stdout)["calls"]
    assert [(c["path"], c["line"], c["caller"]) for c in calls] == [
        ("tool.py", 7, "Tool.run"), ("tool.py", 10, "Tool.helper2")]
    shown = kenning("query", "definitions", "Tool.run", cwd=repo).stdout
    assert shown.strip() == "tool.py:6  method  Tool.run"
    assert "no calls of 'nothing'" in kenning("query", "callers", "nothing", cwd=repo,
                                              check=False).stderr


@pytest.mark.parametrize(("callee", "name"), [
    ("self.conn.execute", "execute"), ("new Map", "Map"), ("geo::Shape::unit", "unit"),
    ("$handler->handle", "handle"), ("$user?->name", "name"), ("p->ops->run", "run"),
    ("len", "len")])
def test_calls_are_looked_up_by_the_last_part_of_the_callee(callee: str, name: str) -> None:
    assert callee_name(callee) == name
