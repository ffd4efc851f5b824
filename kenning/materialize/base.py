"""What every materializer is, and how it reads the eventlog.

The eventlog's writer appends one row per added or removed event to the
`eventlog_changes` journal. A materializer remembers the last journal
position it has folded in (its watermark); catching up means reading the
journal after it. An incremental materializer folds added events and,
where it can, removed ones; one that cannot fold a removal is rebuilt.
A batch materializer is rebuilt whenever any of its inputs changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import apsw

from kenning.eventlog.reader import EVENT_COLUMNS, StoredEvent
from kenning.params import Params

__all__ = ["EVENT_COLUMNS", "Materializer", "Params", "StoredEvent", "TableView"]

P = TypeVar("P", bound=Params)


class Materializer(Protocol[P]):
    name: str
    # its parameters, declared once (kenning/params.py): the recipe's
    # [materialize.<name>] table is validated against it; `Params` when it has none
    params_type: type[P]
    version: int  # bump when the code changes what the tables hold: forces a rebuild
    consumes: tuple[str, ...]  # event type prefixes, e.g. ("git.commit", "session.")
    incremental: bool  # False: batch, rebuilt from the whole log when its inputs change
    # True when add() never reads its own tables' indexes: a rebuild then creates them
    # after loading the rows, which is faster than updating them row by row
    index_after_rebuild: bool

    def tables(self) -> tuple[str, ...]:
        """Every table (and view) it owns; dropped on rebuild."""
        ...

    def create(self, conn: apsw.Connection, params: P) -> None:
        """Create its empty tables."""
        ...

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent],
            params: P) -> bool | None:
        """Fold in events (any order; the result must not depend on it). False: it cannot
        fold these in place (a fold that depends on order and got a late event); the
        engine then rebuilds it."""
        ...

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: P) -> bool:
        """Fold out events that left the log; False if it cannot (then it is rebuilt)."""
        ...

    # Optional: `finish(conn, params, progress) -> dict` runs once after the last add() of
    # a run (rebuild or catch-up) and returns figures for the run's result (the engine
    # looks it up with getattr; embeddings embed all their texts there).


@dataclass(frozen=True)
class TableView:
    """One plain table of the `views` materializer: rows derived from single events.

    `ddl` creates the table (it must have an `event_id TEXT` column, so that a
    removed event's rows can be deleted) and its indexes; `rows` turns one
    event of `event_types` into zero or more rows, in column order.
    """

    table: str
    ddl: str
    event_types: tuple[str, ...]
    rows: Callable[[StoredEvent], list[tuple[Any, ...]]]
