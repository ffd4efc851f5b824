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
    version = 4  # 2: code.call holds one caller's callees; 3, 4: callee_name of `new X`, `a->b`
    params_type = Params  # none
    incremental = True
    index_after_rebuild = True

    def __init__(self) -> None:
        self.views = table_views()
        self.consumes = tuple(sorted({t for v in self.views for t in v.event_types}))
        self._by_type: dict[str, list[TableView]] = {}

    def _views_for(self, event_type: str) -> list[TableView]:
        views = self._by_type.get(event_type)
        if views is None:
            views = [v for v in self.views if _matches(event_type, v.event_types)]
            self._by_type[event_type] = views
        return views

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
        rows: dict[str, list[tuple[object, ...]]] = {v.table: [] for v in self.views}
        for e in events:
            for view in self._views_for(e.event_type):
                rows[view.table].extend(view.rows(e))
        for table, table_rows in rows.items():
            if table_rows:
                marks = ",".join("?" * len(table_rows[0]))
                conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', table_rows)

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: Params) -> bool:
        ids: dict[str, list[tuple[str]]] = {v.table: [] for v in self.views}
        for e in events:
            for view in self._views_for(e.event_type):
                ids[view.table].append((e.event_id,))
        for table, table_ids in ids.items():
            if table_ids:
                conn.executemany(f'DELETE FROM "{table}" WHERE event_id = ?', table_ids)
        return True
