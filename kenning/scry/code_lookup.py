"""Where a code name is defined and where it is called: lookups by name in the
`symbols` and `calls` tables (the views materializer builds them, indexed by
name), for `kenning query definitions|callers`. Results are plain dicts in path
and line order, ready for `--json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import apsw

from kenning.errors import KenningError
from kenning.materialize.views.code import callee_name, dotted
from kenning.scry.filters import path_condition


@dataclass(frozen=True)
class Definition:
    path: str
    line: int
    kind: str  # function, method, class, struct, field, constant, ...
    qualified_name: str
    container: str | None
    language: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Call:
    path: str
    line: int
    caller: str
    callee: str  # as written
    language: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _require(conn: apsw.Connection, table: str) -> None:
    found = conn.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?",
                         (table,)).fetchone()
    if found is None:
        raise KenningError(f"this database has no {table} table yet; run "
                           "`kenning materialize views` (or `kenning scrape`)")


def _where_path(path: str | None) -> tuple[str, list[Any]]:
    if not path:
        return "", []
    sql, params = path_condition("path", path)
    return f" AND {sql}", params


def definitions(conn: apsw.Connection, name: str, *, path: str | None = None,
                limit: int | None = None) -> list[Definition]:
    """Every definition whose name or qualified name is `name`."""
    _require(conn, "symbols")
    extra, params = _where_path(path)
    rows = conn.execute(
        "SELECT path, line, kind, qualified_name, container, language FROM symbols "
        f"WHERE (name = ? OR qualified_name = ?){extra} "
        "ORDER BY path, line, qualified_name, kind", [name, name, *params]).fetchall()
    found = [Definition(*row) for row in rows]
    return found[:limit] if limit is not None else found


def callers(conn: apsw.Connection, name: str, *, path: str | None = None,
            limit: int | None = None) -> list[Call]:
    """Every call site of `name`: a bare name matches the callee's last part (`execute`
    finds `conn.execute`), a dotted one the callee's end (`conn.execute` finds
    `self.conn.execute`, not `other.execute`; `handler.handle` finds PHP's
    `$handler->handle`)."""
    _require(conn, "calls")
    wanted = _plain(name)
    last = callee_name(name)
    extra, params = _where_path(path)
    rows = conn.execute(
        "SELECT path, line, caller, callee, language FROM calls "
        f"WHERE callee_name = ?{extra} ORDER BY path, line, caller, callee",
        [last, *params]).fetchall()
    found = [Call(p, line, caller, callee, language)
             for p, line, caller, callee, language in rows
             if "." not in wanted or _plain(callee) == wanted
             or _plain(callee).endswith("." + wanted)]
    return found[:limit] if limit is not None else found


def _plain(name: str) -> str:
    """Dotted, without PHP's `$`: `$handler->handle` and `handler.handle` are one."""
    return ".".join(part.lstrip("$") for part in dotted(name).split("."))
