"""Projections of your own: a pure fold over the eventlog, kept in the database.

`Kenning.project(name, step, seed, types=...)` folds every event of the chosen
types, in `seq` order, through `step(state, event) -> state`, starting from
`seed`. The state (JSON) and a watermark are stored, so the next call folds
only what the log gained since. It runs through the materialize engine like
the built-in materializers (same watermark, same journal), with one difference
that makes any pure `step` safe, even one that depends on order: when events
left the log, or a new one sorts before what was already folded (an old branch
merged today), the projection is rebuilt from its seed instead. A new `version`
or a new log epoch (`scrape --full`) rebuilds it too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import apsw

from kenning.errors import KenningError
from kenning.eventlog.events import canonical_json
from kenning.eventlog.reader import StoredEvent
from kenning.materialize.engine import PROJECTION_PREFIX, RunResult, bring_up_to_date
from kenning.params import Params

Step = Callable[[Any, StoredEvent], Any]

_DDL = """
CREATE TABLE IF NOT EXISTS projections(
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL,   -- canonical JSON
    last_key TEXT          -- JSON [timestamp, type, source_id, event_id] of the last event folded
) WITHOUT ROWID;
"""


class Fold:
    """A user's fold as a materializer: its table is its one row of `projections`."""

    incremental = True
    index_after_rebuild = False
    params_type = Params  # none

    def __init__(self, name: str, step: Step, seed: Any, types: Sequence[str],
                 version: int) -> None:
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise KenningError(f"a projection's name is letters, digits, '-' and '_', "
                               f"not {name!r}")
        self.label = name
        self.name = PROJECTION_PREFIX + name
        self.version = version
        self.consumes = tuple(types) or ("",)  # "" is a prefix of every event type
        self.step = step
        self.seed = _as_json(seed, name)

    def tables(self) -> tuple[str, ...]:
        return ()

    def create(self, conn: apsw.Connection, params: Params) -> None:
        conn.execute(_DDL)
        self._save(conn, self.seed, None)

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent],
            params: Params) -> bool | None:
        state, last = self.read(conn)
        if not events:
            return None
        if last is not None and list(events[0].sort_key()) < last:
            return False  # a late event: folding it now would differ from a rebuild
        for event in events:
            state = self.step(state, event)
        self._save(conn, _as_json(state, self.label), list(events[-1].sort_key()))
        return None

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: Params) -> bool:
        return False  # a fold cannot be undone: rebuild from the seed

    def read(self, conn: apsw.Connection) -> tuple[Any, list[str] | None]:
        row = conn.execute("SELECT state, last_key FROM projections WHERE name = ?",
                           (self.label,)).fetchone()
        if row is None:
            return self.seed, None
        state, last = row
        return json.loads(str(state)), (json.loads(str(last)) if last else None)

    def _save(self, conn: apsw.Connection, state: Any, last: list[str] | None) -> None:
        conn.execute("INSERT OR REPLACE INTO projections VALUES (?, ?, ?)",
                     (self.label, canonical_json(state),
                      canonical_json(last) if last is not None else None))


def project(conn: apsw.Connection, fold: Fold) -> tuple[Any, RunResult]:
    """Bring one projection up to date inside the caller's write transaction; its state."""
    conn.execute(_DDL)
    result = bring_up_to_date(conn, fold, Params())
    state, _ = fold.read(conn)
    return state, result


def drop(conn: apsw.Connection, name: str) -> bool:
    """Forget a projection (its state and watermark); False when there was none."""
    conn.execute(_DDL)
    conn.execute("DELETE FROM projections WHERE name = ?", (name,))
    found = conn.changes() > 0
    with contextlib.suppress(apsw.SQLError):  # no materializer ever ran: no state table
        conn.execute("DELETE FROM materializer_state WHERE name = ?", (PROJECTION_PREFIX + name,))
    return found


def _as_json(state: Any, name: str) -> Any:
    """The state as it will read back from the database: folds see JSON values only, so an
    incremental run and a rebuild hand `step` the same thing."""
    try:
        return json.loads(canonical_json(state))
    except TypeError as exc:
        raise KenningError(f"projection {name!r}: its state must be JSON (dicts with string "
                           f"keys, lists, strings, numbers, booleans, None): {exc}") from exc
