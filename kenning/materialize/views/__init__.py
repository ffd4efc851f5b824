"""Plain tables derived event by event (TableView specs), one module per event family.

`views/git.py`, `views/sessions.py` and `views/code.py` each export
`VIEWS: list[TableView]`; the `views` materializer composes whichever exist.
Each table row carries the `event_id` it came from, so a removed event's rows
are deleted exactly, and the fold is order-insensitive.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence

import apsw

from kenning.materialize.base import Params, StoredEvent, TableView

_MODULES = ("kenning.materialize.views.git", "kenning.materialize.views.sessions",
            "kenning.materialize.views.code")


def table_views() -> list[TableView]:
    views: list[TableView] = []
    for name in _MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a module that exists but fails to import is a bug
                raise
            continue
        views.extend(module.VIEWS)
    return views


def _matches(event_type: str, prefixes: tuple[str, ...]) -> bool:
    return any(event_type.startswith(p) for p in prefixes)


class ViewsMaterializer:
    name = "views"
    version = 1
    incremental = True

    def __init__(self) -> None:
        self.views = table_views()
        self.consumes = tuple(sorted({t for v in self.views for t in v.event_types}))

    def fingerprint(self) -> str:
        """Changes when any composed table's definition changes (forces a rebuild)."""
        text = "\n".join(f"{v.table}\n{v.ddl}\n{v.event_types}" for v in self.views)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def tables(self) -> tuple[str, ...]:
        return tuple(v.table for v in self.views)

    def create(self, conn: apsw.Connection, params: Params) -> None:
        for view in self.views:
            conn.execute(view.ddl)

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent], params: Params) -> None:
        for view in self.views:
            rows = [row for e in events if _matches(e.event_type, view.event_types)
                    for row in view.rows(e)]
            if rows:
                marks = ",".join("?" * len(rows[0]))
                conn.executemany(f'INSERT INTO "{view.table}" VALUES ({marks})', rows)

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: Params) -> bool:
        for view in self.views:
            ids = [(e.event_id,) for e in events if _matches(e.event_type, view.event_types)]
            if ids:
                conn.executemany(f'DELETE FROM "{view.table}" WHERE event_id = ?', ids)
        return True
