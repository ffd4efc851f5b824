"""Tables from code events: `functions`, `types`, `imports`, `calls`, `symbols`.

Every row keeps the `event_id` it came from and the file `path`; each table
is indexed by name and by path, the two ways scry looks code up.
"""

from __future__ import annotations

import json
from typing import Any

from kenning.materialize.base import StoredEvent, TableView


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _function_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    return [(
        e.event_id, e.source_id, e.source_file, d["name"], d["qualified_name"],
        d.get("container"), d.get("kind"), d.get("language"), d.get("signature"),
        _json(d.get("parameters", [])), d.get("return_type"), d.get("docstring"),
        int(bool(d.get("async"))), int(bool(d.get("public"))), int(bool(d.get("static"))),
        d.get("start_line"), d.get("end_line"), e.timestamp,
    )]


def _type_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    return [(
        e.event_id, e.source_id, e.source_file, d["name"], d["qualified_name"],
        d.get("container"), d.get("kind"), d.get("language"), d.get("signature"),
        d.get("docstring"), _json(d.get("members", [])), d.get("start_line"),
        d.get("end_line"), e.timestamp,
    )]


def _import_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    return [(e.event_id, e.source_file, d.get("module", ""), _json(d.get("names", [])),
             d.get("alias"), d.get("line"), d.get("language"))]


def dotted(name: str) -> str:
    """A callee or qualified name with every member separator a dot: `geo::Shape::unit`,
    `$handler->handle` (PHP, and C's `p->f`)."""
    return name.replace("::", ".").replace("->", ".")


def callee_name(callee: str) -> str:
    """What a call is looked up by: `self.conn.execute` -> `execute`, `new Map` -> `Map`."""
    return dotted(callee.removeprefix("new ")).rsplit(".", 1)[-1]


def _call_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    """A row per call site: the event holds one caller's callees, each with its lines."""
    d = e.data
    caller, language = d["caller"], d.get("language")
    return [(e.event_id, e.source_file, caller, call["callee"], callee_name(call["callee"]),
             line, language)
            for call in d["calls"] for line in call["lines"]]


_SYMBOL_KIND = {"code.constant": "constant"}


def _symbol_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    if e.event_type == "code.member":
        if d.get("member_kind") == "method":
            return []  # the code.function event already names it
        kind = "field"
    else:
        kind = _SYMBOL_KIND.get(e.event_type) or d.get("kind") or "symbol"
    line = d.get("start_line") or d.get("line")
    return [(e.event_id, e.source_id, d["name"], d["qualified_name"], kind, d.get("container"),
             e.source_file, line, d.get("language"))]


VIEWS: list[TableView] = [
    TableView(
        table="functions",
        ddl="""CREATE TABLE functions(
            event_id TEXT NOT NULL, source_id TEXT NOT NULL, path TEXT, name TEXT NOT NULL,
            qualified_name TEXT NOT NULL, container TEXT, kind TEXT, language TEXT,
            signature TEXT, parameters TEXT, return_type TEXT, docstring TEXT,
            is_async INTEGER, is_public INTEGER, is_static INTEGER,
            start_line INTEGER, end_line INTEGER, timestamp TEXT);
        CREATE INDEX functions_event ON functions(event_id);
        CREATE INDEX functions_name ON functions(name);
        CREATE INDEX functions_qualified ON functions(qualified_name);
        CREATE INDEX functions_path ON functions(path, start_line);""",
        event_types=("code.function",),
        rows=_function_rows,
    ),
    TableView(
        table="types",
        ddl="""CREATE TABLE types(
            event_id TEXT NOT NULL, source_id TEXT NOT NULL, path TEXT, name TEXT NOT NULL,
            qualified_name TEXT NOT NULL, container TEXT, kind TEXT, language TEXT,
            signature TEXT, docstring TEXT, members TEXT, start_line INTEGER,
            end_line INTEGER, timestamp TEXT);
        CREATE INDEX types_event ON types(event_id);
        CREATE INDEX types_name ON types(name);
        CREATE INDEX types_qualified ON types(qualified_name);
        CREATE INDEX types_path ON types(path, start_line);""",
        event_types=("code.type",),
        rows=_type_rows,
    ),
    TableView(
        table="imports",
        ddl="""CREATE TABLE imports(
            event_id TEXT NOT NULL, path TEXT, module TEXT NOT NULL, names TEXT, alias TEXT,
            line INTEGER, language TEXT);
        CREATE INDEX imports_event ON imports(event_id);
        CREATE INDEX imports_module ON imports(module);
        CREATE INDEX imports_path ON imports(path);""",
        event_types=("code.import",),
        rows=_import_rows,
    ),
    TableView(
        table="calls",
        ddl="""CREATE TABLE calls(
            event_id TEXT NOT NULL, path TEXT, caller TEXT NOT NULL, callee TEXT NOT NULL,
            callee_name TEXT NOT NULL, line INTEGER, language TEXT);
        CREATE INDEX calls_event ON calls(event_id);
        CREATE INDEX calls_callee_name ON calls(callee_name);
        CREATE INDEX calls_caller ON calls(caller);
        CREATE INDEX calls_path ON calls(path, line);""",
        event_types=("code.call",),
        rows=_call_rows,
    ),
    TableView(
        table="symbols",
        ddl="""CREATE TABLE symbols(
            event_id TEXT NOT NULL, source_id TEXT NOT NULL, name TEXT NOT NULL,
            qualified_name TEXT NOT NULL, kind TEXT NOT NULL, container TEXT, path TEXT,
            line INTEGER, language TEXT);
        CREATE INDEX symbols_event ON symbols(event_id);
        CREATE INDEX symbols_name ON symbols(name);
        CREATE INDEX symbols_qualified ON symbols(qualified_name);
        CREATE INDEX symbols_path ON symbols(path, line);""",
        event_types=("code.function", "code.type", "code.constant", "code.member"),
        rows=_symbol_rows,
    ),
]
