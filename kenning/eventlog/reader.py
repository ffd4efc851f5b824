"""Reading the eventlog: events by type and time in `seq` order, the change journal since
a watermark, and the bookkeeping `kenning status` shows.

Every module outside this package reads the log through here (materializers,
projections, queries, status, export); none writes SQL against the log's tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import apsw
import orjson

from kenning.eventlog.events import Event

EVENT_COLUMNS = "event_id, event_type, timestamp, source_id, source_file, data"
LOG_COLUMNS = "seq, " + EVENT_COLUMNS
BATCH = 2000


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back from the eventlog, payload decoded."""

    event_id: str
    event_type: str
    timestamp: str
    source_id: str
    source_file: str | None
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StoredEvent:
        event_id, event_type, timestamp, source_id, source_file, data = row
        # orjson wrote it (events.canonical_json) and reads it back 3x faster than json
        return cls(event_id, event_type, timestamp, source_id, source_file, orjson.loads(data))

    def sort_key(self) -> tuple[str, str, str, str]:
        """The eventlog's canonical order."""
        return (self.timestamp, self.event_type, self.source_id, self.event_id)


def type_filter(types: Sequence[str], column: str = "event_type") -> tuple[str, list[str]]:
    """SQL matching event types that start with one of `types` (every type when empty)."""
    if not types:
        return "1", []
    clause = " OR ".join(f"substr({column}, 1, {len(p)}) = ?" for p in types)
    return f"({clause})", list(types)


def batches(conn: apsw.Connection, types: Sequence[str] = (), *, since: str | None = None,
            until: str | None = None, size: int = BATCH) -> Iterator[list[StoredEvent]]:
    """Events whose type starts with one of `types` (all when empty), with since <=
    timestamp <= until, in `seq` order, in lists of at most `size`."""
    where, args = type_filter(types)
    if since is not None:
        where += " AND timestamp >= ?"
        args.append(since)
    if until is not None:
        where += " AND timestamp <= ?"
        args.append(until)
    after = 0
    while True:
        rows = conn.execute(
            f"SELECT {LOG_COLUMNS} FROM eventlog WHERE seq > ? AND {where} "
            f"ORDER BY seq LIMIT {int(size)}", (after, *args)).fetchall()
        if not rows:
            return
        after = int(rows[-1][0])  # type: ignore[arg-type]
        yield [StoredEvent.from_row(r[1:]) for r in rows]


def count(conn: apsw.Connection, types: Sequence[str] = ()) -> int:
    """How many events have a type starting with one of `types` (all when empty)."""
    where, args = type_filter(types)
    row = conn.execute(f"SELECT count(*) FROM eventlog WHERE {where}", args).fetchone()
    return int(row[0]) if row else 0  # type: ignore[arg-type]


def events(conn: apsw.Connection, types: Sequence[str] = (), *, since: str | None = None,
           until: str | None = None) -> Iterator[StoredEvent]:
    """The same as `batches`, one event at a time."""
    for chunk in batches(conn, types, since=since, until=until):
        yield from chunk


def read_events(conn: apsw.Connection, event_ids: Sequence[str]) -> list[StoredEvent]:
    """The events with these ids that the log has, in canonical order."""
    found: list[StoredEvent] = []
    ids = list(event_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.extend(StoredEvent.from_row(r) for r in conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM eventlog WHERE event_id IN ({marks})", chunk))
    found.sort(key=StoredEvent.sort_key)
    return found


def source_files(conn: apsw.Connection, event_ids: Sequence[str]) -> dict[str, str | None]:
    ids = list(event_ids)
    found: dict[str, str | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(conn.execute(
            f"SELECT event_id, source_file FROM eventlog WHERE event_id IN ({marks})", chunk))
    return found


def log_rows(conn: apsw.Connection) -> Iterator[tuple[Any, ...]]:
    """(seq, event_id, event_type, timestamp, source_id, source_file, data) in seq order,
    data as the stored canonical JSON text."""
    yield from conn.execute(f"SELECT {LOG_COLUMNS} FROM eventlog ORDER BY seq")


def event_at(conn: apsw.Connection, seq: int) -> Event | None:
    row = conn.execute("SELECT event_type, timestamp, source_id, source_file, data "
                       "FROM eventlog WHERE seq = ?", (seq,)).fetchone()
    return Event(*row) if row else None


# -- the change journal ------------------------------------------------------------


def journal_head(conn: apsw.Connection) -> int:
    """The newest change's position (0 for none): every fold's watermark is one of these."""
    row = conn.execute("SELECT coalesce(max(change), 0) FROM eventlog_changes").fetchone()
    return int(row[0]) if row else 0  # type: ignore[arg-type]


def journal_start(conn: apsw.Connection) -> int:
    """The oldest change still in the journal (older ones were pruned)."""
    row = conn.execute("SELECT coalesce(min(change), 0) FROM eventlog_changes").fetchone()
    return int(row[0]) if row else 0  # type: ignore[arg-type]


def net_changes(conn: apsw.Connection, types: Sequence[str], watermark: int,
                head: int) -> tuple[list[str], list[StoredEvent]]:
    """The net change between two journal positions, for events of `types`: ids net
    added (sorted) and events net removed (read back from the journal, since the log no
    longer has them). An event added and then removed is no change at all."""
    where, args = type_filter(types)
    net: dict[str, int] = {}
    last_removed: dict[str, tuple[Any, ...]] = {}
    for op, eid, etype, ts, sid, sf, data in conn.execute(
        "SELECT op, event_id, event_type, timestamp, source_id, source_file, data "
        f"FROM eventlog_changes WHERE change > ? AND change <= ? AND {where} ORDER BY change",
        (watermark, head, *args),
    ):
        net[eid] = net.get(eid, 0) + op
        if op < 0:
            last_removed[eid] = (eid, etype, ts, sid, sf, data)
    added = sorted(eid for eid, n in net.items() if n > 0)
    removed = [StoredEvent.from_row(last_removed[eid])
               for eid, n in sorted(net.items()) if n < 0]
    return added, removed


# -- what `kenning status` shows -----------------------------------------------------


def counts(conn: apsw.Connection) -> dict[str, int]:
    """Events per type, sorted by type."""
    return {str(t): int(n) for t, n in conn.execute(  # type: ignore[arg-type]
        "SELECT event_type, count(*) FROM eventlog GROUP BY 1 ORDER BY 1")}


def unit_statuses(conn: apsw.Connection) -> dict[str, dict[str, int]]:
    """scraper -> unit status (ok, partial, skipped:<reason>, ...) -> how many units."""
    units: dict[str, dict[str, int]] = {}
    for scraper, status, n in conn.execute(
            "SELECT scraper, status, count(*) FROM scrape_units GROUP BY 1, 2 ORDER BY 1, 2"):
        units.setdefault(str(scraper), {})[str(status)] = int(n)  # type: ignore[arg-type]
    return units


def last_run(conn: apsw.Connection) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT finished_at, target, cutoff, tool_version, added, removed, seconds, warnings"
        " FROM scrape_runs ORDER BY run DESC LIMIT 1").fetchone()
    if row is None:
        return None
    keys = ["finished_at", "target", "cutoff", "tool_version", "added", "removed", "seconds"]
    return dict(zip(keys, row[:-1], strict=True)) | {"warnings": json.loads(str(row[-1]))}


# -- what later scrapers need to know about the git history ----------------------------


def file_times(conn: apsw.Connection) -> tuple[dict[str, str], dict[str, str]]:
    """(path -> time of the last first-parent commit that changed it,
    path -> time it first appeared), from the git.commit events."""
    last_changed = dict(conn.execute(
        """SELECT f.value ->> 'path', max(e.timestamp)
           FROM eventlog e, json_each(e.data, '$.files') f
           WHERE e.event_type = 'git.commit' AND e.data ->> 'first_parent'
           GROUP BY 1""").fetchall())
    first_added = dict(conn.execute(
        """SELECT f.value ->> 'path', min(e.timestamp)
           FROM eventlog e, json_each(e.data, '$.files') f
           WHERE e.event_type = 'git.commit' AND f.value ->> 'change_type' IN ('A', 'R', 'C')
           GROUP BY 1""").fetchall())
    return last_changed, first_added


def tag_commits(conn: apsw.Connection) -> dict[str, str]:
    """tag name -> the commit it points to."""
    return dict(conn.execute(
        "SELECT source_id, data ->> 'commit' FROM eventlog WHERE event_type = 'git.tag'"
    ).fetchall())
