"""signals: decaying activity per entity (file, author, symbol) and signal.

Entities and signals:
- file (its path in that commit) and author (e-mail): `changes`, weight 1 per
  non-merge commit, and `lines`, weight lines added + removed;
- symbol (`path::Qualified.name` of `code.*` definitions): `changes`, weight 1
  at the time of the commit that last changed its file.

For each (entity, signal): the event count and weight total, first and last
event time, and the decayed score `S = sum w * 2^(-(t_ref - t) / half_life)`
(see `decay`): kept exactly as an integer accumulator, so an event that
arrives late is simply added (that is its pre-decay), a removed one is
subtracted, and the result is the same integer whatever the order. `score`
holds its value at the row's last event; the `signal_scores` view decays it to
the reference time, the newest event this materializer has seen (never the
wall clock); `decay.sql_decayed` reads it at any other time.

Windowed counts (`signal_windows`): events and weight in (t_ref - window, t_ref]
per recipe window, velocity = events / window days. The reference time moves
when newer events arrive (or the newest is removed), so each fold also moves
the events that crossed a window edge in or out, found through the raw
per-event rows; the counts are integers and end as a recount would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import apsw

from kenning.eventlog.events import utc_timestamp
from kenning.materialize import decay
from kenning.materialize.base import StoredEvent
from kenning.params import Params, param


@dataclass(frozen=True)
class SignalsParams(Params):
    half_life_days: float = param(30.0, "an event counts half as much after this many days",
                                  minimum=decay.MIN_HALF_LIFE_DAYS,
                                  maximum=decay.MAX_HALF_LIFE_DAYS)
    windows: tuple[int, ...] = param((7, 30, 90), "days, for windowed counts and velocity",
                                     above=0, maximum=decay.MAX_WINDOW_DAYS)

SYMBOL_TYPES = ("code.function", "code.type", "code.constant", "code.member")

Contribution = tuple[str, str, str, str, str, int]  # kind, entity, signal, event_id, ts, w
_KEY = "entity_kind = ? AND entity = ? AND signal = ?"


def _half_life(params: SignalsParams) -> float:
    return decay.half_life_seconds(params.half_life_days)


def _windows(params: SignalsParams) -> tuple[int, ...]:
    return tuple(sorted(set(params.windows)))


def contributions(event: StoredEvent) -> list[Contribution]:
    """What one event adds to which (entity, signal)."""
    e, ts = event.event_id, event.timestamp
    if event.event_type == "git.commit":
        data = event.data
        if data.get("is_merge"):
            return []
        author = str((data.get("author") or {}).get("email") or "")
        out: list[Contribution] = [("author", author, "changes", e, ts, 1)]
        total = 0
        for f in data.get("files") or []:
            lines = int(f.get("lines_added") or 0) + int(f.get("lines_removed") or 0)
            total += lines
            out.append(("file", f["path"], "changes", e, ts, 1))
            if lines:
                out.append(("file", f["path"], "lines", e, ts, lines))
        if total:
            out.append(("author", author, "lines", e, ts, total))
        return out
    if event.event_type in SYMBOL_TYPES:
        return [("symbol", event.source_id, "changes", e, ts, 1)]
    return []


class SignalsMaterializer:
    name = "signals"
    version = 1
    params_type = SignalsParams
    consumes = ("git.commit", "code.")
    incremental = True
    index_after_rebuild = False

    def tables(self) -> tuple[str, ...]:
        return ("signal_events", "signal_meta", "signals", "signal_windows", "signal_scores",
                "signal_velocity")

    def create(self, conn: apsw.Connection, params: SignalsParams) -> None:
        half_life = _half_life(params)
        _windows(params)
        decayed = decay.sql_decayed("s.score", "unixepoch(s.last_time)",
                                    "unixepoch(m.value)", half_life)
        conn.execute(f"""
        CREATE TABLE signal_events(entity_kind TEXT NOT NULL, entity TEXT NOT NULL,
            signal TEXT NOT NULL, event_id TEXT NOT NULL, timestamp TEXT NOT NULL,
            weight INTEGER NOT NULL,
            PRIMARY KEY(entity_kind, entity, signal, event_id)) WITHOUT ROWID;
        CREATE INDEX signal_events_time ON signal_events(timestamp);
        CREATE INDEX signal_events_event ON signal_events(event_id);
        CREATE TABLE signal_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        -- score: the decayed weight as of last_time; accumulator: its exact form (decay.py)
        CREATE TABLE signals(entity_kind TEXT NOT NULL, entity TEXT NOT NULL,
            signal TEXT NOT NULL, events INTEGER NOT NULL, total INTEGER NOT NULL,
            first_time TEXT NOT NULL, last_time TEXT NOT NULL, accumulator TEXT NOT NULL,
            score REAL NOT NULL, PRIMARY KEY(entity_kind, entity, signal)) WITHOUT ROWID;
        CREATE TABLE signal_windows(entity_kind TEXT NOT NULL, entity TEXT NOT NULL,
            signal TEXT NOT NULL, window_days INTEGER NOT NULL, events INTEGER NOT NULL,
            total INTEGER NOT NULL,
            PRIMARY KEY(entity_kind, entity, signal, window_days)) WITHOUT ROWID;
        CREATE VIEW signal_scores(entity_kind, entity, signal, events, total, first_time,
                                  last_time, reference_time, score) AS
        SELECT s.entity_kind, s.entity, s.signal, s.events, s.total, s.first_time,
               s.last_time, m.value, {decayed}
        FROM signals s JOIN signal_meta m ON m.key = 'reference_time';
        CREATE VIEW signal_velocity(entity_kind, entity, signal, window_days, events, total,
                                    velocity, total_per_day) AS
        SELECT entity_kind, entity, signal, window_days, events, total,
               1.0 * events / window_days, 1.0 * total / window_days
        FROM signal_windows;
        """)

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent],
            params: SignalsParams) -> None:
        rows = sorted(c for e in events for c in contributions(e))
        if not rows:
            return
        before = _reference(conn)
        after = max(before or "", max(r[4] for r in rows))
        # windows first slide to the new reference, over the events stored so far
        _slide_windows(conn, before, after, _windows(params))
        conn.executemany("INSERT INTO signal_events VALUES (?, ?, ?, ?, ?, ?)", rows)
        _fold(conn, rows, +1, _half_life(params))
        _count_in_windows(conn, rows, after, _windows(params), +1)
        _set_reference(conn, after)

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: SignalsParams) -> bool:
        ids = sorted({e.event_id for e in events})
        rows: list[Contribution] = []
        for eid in ids:
            for k, ent, sig, e, ts, w in conn.execute(
                    "SELECT entity_kind, entity, signal, event_id, timestamp, weight "
                    "FROM signal_events WHERE event_id = ?", (eid,)):
                rows.append((k, ent, sig, e, ts, w))
        if not rows:
            return True
        rows.sort()
        before = _reference(conn)
        _count_in_windows(conn, rows, before, _windows(params), -1)
        conn.executemany(f"DELETE FROM signal_events WHERE {_KEY} AND event_id = ?",
                         [r[:4] for r in rows])
        _fold(conn, rows, -1, _half_life(params))
        after = _one(conn, "SELECT max(timestamp) FROM signal_events")[0]
        _slide_windows(conn, before, after, _windows(params))
        _set_reference(conn, after)
        return True


def _one(conn: apsw.Connection, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...]:
    row = conn.execute(sql, args).fetchone()
    assert row is not None
    return tuple(row)


def _reference(conn: apsw.Connection) -> str | None:
    row = conn.execute("SELECT value FROM signal_meta WHERE key = 'reference_time'").fetchone()
    return row[0] if row else None


def _set_reference(conn: apsw.Connection, ts: str | None) -> None:
    if ts is None:
        conn.execute("DELETE FROM signal_meta WHERE key = 'reference_time'")
    else:
        conn.execute("INSERT OR REPLACE INTO signal_meta VALUES ('reference_time', ?)", (ts,))


def _fold(conn: apsw.Connection, rows: list[Contribution], sign: int, half_life: float) -> None:
    """Add (sign +1) or subtract (-1) contributions to the per-entity rows."""
    by_key: dict[tuple[str, str, str], list[Contribution]] = {}
    for r in rows:
        by_key.setdefault(r[:3], []).append(r)
    keys = sorted(by_key)
    stored = _stored(conn, keys)
    gone: list[tuple[str, str, str]] = []
    kept: list[tuple[Any, ...]] = []
    for key in keys:
        group = by_key[key]
        row = stored.get(key)
        events, total, first, last, acc = (
            (row[0], row[1], row[2], row[3], decay.decode(row[4])) if row else (0, 0, "", "", 0))
        events += sign * len(group)
        total += sign * sum(r[5] for r in group)
        acc += sign * sum(decay.term(decay.epoch(r[4]), r[5], half_life) for r in group)
        if events <= 0:
            gone.append(key)
            continue
        if sign > 0:
            first = min(first or group[0][4], min(r[4] for r in group))
            last = max(last, max(r[4] for r in group))
        else:
            first, last = _one(conn, "SELECT min(timestamp), max(timestamp) FROM "
                               f"signal_events WHERE {_KEY}", key)
        score = decay.value(acc, decay.epoch(last), half_life)
        kept.append((*key, events, total, first, last, decay.encode(acc), score))
    conn.executemany(f"DELETE FROM signals WHERE {_KEY}", gone)
    conn.executemany("INSERT OR REPLACE INTO signals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", kept)


_KEYS_PER_QUERY = 300  # 900 bound values, well under SQLite's limit


def _stored(conn: apsw.Connection, keys: list[tuple[str, str, str]]
            ) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """The signals rows of these keys, a few hundred keys per query (one query per key
    was most of a rebuild's time in SQLite)."""
    found: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start:start + _KEYS_PER_QUERY]
        values = ", ".join(["(?, ?, ?)"] * len(chunk))
        for row in conn.execute(
                "SELECT entity_kind, entity, signal, events, total, first_time, last_time, "
                "accumulator FROM signals WHERE (entity_kind, entity, signal) IN "
                f"(VALUES {values})", [part for key in chunk for part in key]):
            found[(row[0], row[1], row[2])] = tuple(row[3:])
    return found


def window_start(reference: str, days: int) -> str:
    """Events strictly after this timestamp are inside the window ending at `reference`."""
    return utc_timestamp(decay.epoch(reference) - days * decay.DAY)


def _count_in_windows(conn: apsw.Connection, rows: Iterable[Contribution],
                      reference: str | None, windows: tuple[int, ...], sign: int) -> None:
    if reference is None:
        return
    for days in windows:
        start = window_start(reference, days)
        _bump(conn, [(r[0], r[1], r[2], r[5]) for r in rows if r[4] > start], days, sign)


def _slide_windows(conn: apsw.Connection, before: str | None, after: str | None,
                   windows: tuple[int, ...]) -> None:
    """Move each window's edge from `before` to `after`, over the stored events."""
    if before == after or before is None:
        return
    for days in windows:
        old = window_start(before, days)
        if after is None:  # nothing left: every window empties
            conn.execute("DELETE FROM signal_windows WHERE window_days = ?", (days,))
            continue
        new = window_start(after, days)
        low, high, sign = (old, new, -1) if new > old else (new, old, +1)
        crossed = conn.execute(
            "SELECT entity_kind, entity, signal, weight FROM signal_events "
            "WHERE timestamp > ? AND timestamp <= ? AND timestamp <= ?",
            (low, high, after)).fetchall()
        _bump(conn, crossed, days, sign)


def _bump(conn: apsw.Connection, rows: Sequence[Any], days: int, sign: int) -> None:
    counts: dict[tuple[str, str, str], list[int]] = {}
    for kind, entity, signal, weight in rows:
        c = counts.setdefault((kind, entity, signal), [0, 0])
        c[0] += 1
        c[1] += weight
    conn.executemany(
        "INSERT INTO signal_windows VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
        "events = events + excluded.events, total = total + excluded.total",
        [(*k, days, sign * n, sign * w) for k, (n, w) in sorted(counts.items())])
    if sign < 0:  # only a subtraction empties a window row
        conn.executemany("DELETE FROM signal_windows WHERE entity_kind = ? AND entity = ? "
                         "AND signal = ? AND window_days = ? AND events = 0",
                         [(*k, days) for k in sorted(counts)])
