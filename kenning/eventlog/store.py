"""Writing events: per-unit replacement, then dense `seq` in canonical order.

Events arrive in any order. Each scraper unit's events are replaced as a
whole; afterwards `seq` is renumbered from the first position that changed,
so an event that arrives late (an old branch merged today) lands in its
place and only the tail moves.
"""

from __future__ import annotations

from collections.abc import Iterable

import apsw

from kenning.eventlog.events import Event, canonical_json

_ORDER = "timestamp, event_type, source_id, event_id"
SortKey = tuple[str, str, str, str]


class EventStore:
    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn
        self.added = 0
        self.removed = 0
        self._first_change: SortKey | None = None
        # rows waiting to be written; batched because one executemany per unit is slow
        self._events: list[tuple[str, str, str, str, str | None, str]] = []
        self._unit_events: list[tuple[str, str, str]] = []
        self._units: list[tuple[str, str, str, str]] = []

    def stored_units(self, scraper: str) -> dict[str, str]:
        self.flush()
        rows = self.conn.execute(
            "SELECT unit, fingerprint FROM scrape_units WHERE scraper = ?", (scraper,)
        )
        return dict(rows.fetchall())

    def remove_units(self, scraper: str, units: Iterable[str]) -> None:
        self.flush()
        for unit in units:
            doomed = self.conn.execute(
                "SELECT timestamp, event_type, source_id, event_id, source_file, data "
                "FROM eventlog WHERE event_id IN "
                "(SELECT event_id FROM unit_events WHERE scraper = ? AND unit = ?)",
                (scraper, unit),
            ).fetchall()
            for ts, etype, sid, eid, _sf, _data in doomed:
                self._note_change((ts, etype, sid, eid))
            self.conn.executemany(
                "INSERT INTO eventlog_changes(op, event_id, event_type, timestamp, source_id,"
                " source_file, data) VALUES (-1, ?, ?, ?, ?, ?, ?)",
                [(eid, etype, ts, sid, sf, data) for ts, etype, sid, eid, sf, data in doomed],
            )
            self.conn.execute(
                "DELETE FROM eventlog WHERE event_id IN "
                "(SELECT event_id FROM unit_events WHERE scraper = ? AND unit = ?)",
                (scraper, unit),
            )
            self.conn.execute(
                "DELETE FROM unit_events WHERE scraper = ? AND unit = ?", (scraper, unit)
            )
            self.conn.execute(
                "DELETE FROM scrape_units WHERE scraper = ? AND unit = ?", (scraper, unit)
            )
            self.removed += len(doomed)

    def add_unit(
        self, scraper: str, unit: str, fingerprint: str, status: str, events: list[Event]
    ) -> None:
        for event in events:
            event_id = event.event_id
            self._events.append((event_id, event.event_type, event.timestamp, event.source_id,
                                 event.source_file, event.data))
            self._unit_events.append((scraper, unit, event_id))
            self._note_change((event.timestamp, event.event_type, event.source_id, event_id))
        self._units.append((scraper, unit, fingerprint, status))
        self.added += len(events)
        if len(self._events) >= 5000:
            self.flush()

    def flush(self) -> None:
        # seq 0 marks a row not yet numbered; renumber() fixes it before commit.
        self.conn.executemany("INSERT INTO eventlog VALUES (0, ?, ?, ?, ?, ?, ?)", self._events)
        self.conn.executemany("INSERT INTO unit_events VALUES (?, ?, ?)", self._unit_events)
        self.conn.executemany(
            "INSERT INTO eventlog_changes(op, event_id, event_type) VALUES (1, ?, ?)",
            [(row[0], row[1]) for row in self._events],
        )
        self.conn.executemany("INSERT INTO scrape_units VALUES (?, ?, ?, ?)", self._units)
        self._events, self._unit_events, self._units = [], [], []

    def _note_change(self, key: SortKey) -> None:
        if self._first_change is None or key < self._first_change:
            self._first_change = key

    def renumber(self) -> None:
        """Make `seq` the dense 1..N position in canonical order again."""
        self.flush()
        start = self._first_change
        if start is None:
            return
        (before,) = self.conn.execute(
            f"SELECT count(*) FROM eventlog WHERE ({_ORDER}) < (?, ?, ?, ?)", start
        ).fetchone()
        self.conn.execute(
            f"""WITH ordered AS (
                  SELECT event_id, ? + row_number() OVER (ORDER BY {_ORDER}) AS n
                  FROM eventlog WHERE ({_ORDER}) >= (?, ?, ?, ?))
                UPDATE eventlog SET seq = ordered.n FROM ordered
                WHERE eventlog.event_id = ordered.event_id AND eventlog.seq != ordered.n""",
            (before, *start),
        )
        self._first_change = None


def clear(conn: apsw.Connection) -> None:
    """Forget every event, unit and journal row (a `--full` scrape starts from nothing)."""
    for table in ("eventlog", "scrape_units", "unit_events", "eventlog_changes"):
        conn.execute(f"DELETE FROM {table}")


def prune_journal(conn: apsw.Connection, floor: int) -> None:
    """Drop journal rows at or below `floor` (every reader has folded them), except the
    newest, which keeps SQLite's rowid counter (and so every watermark) monotonic."""
    conn.execute("DELETE FROM eventlog_changes WHERE change <= ? AND change < "
                 "(SELECT max(change) FROM eventlog_changes)", (floor,))


def record_run(conn: apsw.Connection, *, target: str | None, cutoff: str | None,
               tool_version: str, options: str, added: int, removed: int, seconds: float,
               warnings: list[str]) -> None:
    """One row of scrape history (local bookkeeping: the wall clock is allowed here)."""
    conn.execute(
        "INSERT INTO scrape_runs(finished_at, target, cutoff, tool_version, options, added,"
        " removed, seconds, warnings) VALUES (strftime('%Y-%m-%dT%H:%M:%SZ','now'),"
        " ?, ?, ?, ?, ?, ?, ?, ?)",
        (target, cutoff, tool_version, options, added, removed, round(seconds, 3),
         canonical_json(warnings)))
