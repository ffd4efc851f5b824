"""The materialize engine: decides, per materializer, rebuild or catch up, and does it.

State per materializer (table `materializer_state`, local bookkeeping): the
version it was built with, a hash of its recipe parameters, the log epoch
(bumped by a `--full` scrape, which also restarts the change journal) and its
watermark, the last `eventlog_changes` row it has folded in. Every run that
changes a materializer's tables also draws it a new generation token
(materialize/generation.py), which caches outside the database check.

- version, parameters or epoch differ, or never built: rebuild (drop its
  tables, create them, add every consumed event of the log);
- behind the journal: fold the NET change per event since the watermark
  (an event added then removed is nothing; one removed is read back from the
  journal, since the log no longer has it). Removals first, then additions;
  a `remove()` that returns False means rebuild. A batch materializer is
  rebuilt whenever any consumed event changed.

One run is one IMMEDIATE transaction (the scrape's write lock): all or nothing.
Journal rows every materializer has folded are pruned, except the newest one,
which keeps SQLite's rowid counter (and so every watermark) monotonic.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw

from kenning.eventlog import database, reader, store
from kenning.eventlog import state as scrape_state
from kenning.eventlog.events import canonical_json
from kenning.materialize import generation
from kenning.materialize.base import Materializer, Params
from kenning.materialize.registry import MATERIALIZERS, load
from kenning.params import to_table
from kenning.progress import Progress, Silent
from kenning.recipes import Recipe

_STATE_DDL = """
CREATE TABLE IF NOT EXISTS materializer_state(
    name TEXT PRIMARY KEY, version TEXT NOT NULL, params_hash TEXT NOT NULL,
    log_epoch TEXT NOT NULL, watermark INTEGER NOT NULL) WITHOUT ROWID;
"""
_BATCH = 2000
PROJECTION_PREFIX = "project:"  # materializer_state names of users' projections


@dataclass(frozen=True)
class Freshness:
    name: str
    state: str  # "fresh" | "stale" | "disabled"
    reason: str  # why stale ("" when fresh)
    rebuild: bool  # the next run rebuilds (rather than catching up)


@dataclass
class RunResult:
    name: str
    action: str  # "rebuilt" | "caught up" | "fresh" | "dropped"
    reason: str = ""
    added: int = 0
    removed: int = 0
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)  # what its finish() reported

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "action": self.action, "reason": self.reason,
                "added": self.added, "removed": self.removed, "seconds": round(self.seconds, 3),
                "details": self.details}


def ensure_state_table(conn: apsw.Connection) -> None:
    conn.execute(_STATE_DDL)
    conn.execute(generation.DDL)


def version_key(m: Materializer) -> str:
    """The version, plus a fingerprint of its table definitions where it has one
    (the `views` materializer composes tables that other modules define)."""
    fingerprint = getattr(m, "fingerprint", None)
    return str(m.version) + (f"+{fingerprint()}" if callable(fingerprint) else "")


def params_hash(params: Params) -> str:
    return hashlib.sha256(canonical_json(to_table(params)).encode()).hexdigest()[:16]


def materialize(db_path: Path, recipe: Recipe, names: Sequence[str] = (), *,
                rebuild: bool = False, progress: Progress | None = None) -> list[RunResult]:
    """Bring the selected (default: every enabled) materializer up to date, atomically."""
    conn = database.connect(db_path, write=True)
    try:
        with database.write_transaction(conn, db_path):
            return materialize_in(conn, recipe, names, rebuild=rebuild, progress=progress)
    finally:
        conn.close()


def materialize_in(conn: apsw.Connection, recipe: Recipe, names: Sequence[str] = (), *,
                   rebuild: bool = False, progress: Progress | None = None) -> list[RunResult]:
    """The same, inside the caller's write transaction."""
    ensure_state_table(conn)
    selected = _selection(recipe, names)
    head = reader.journal_head(conn)
    results: dict[str, RunResult] = {}
    rebuilds: list[tuple[Materializer, Params, str]] = []
    for name in MATERIALIZERS:
        enabled, params = recipe.materializer(name)
        if not enabled:
            if _drop_disabled(conn, name):
                results[name] = RunResult(name, "dropped", "disabled in the recipe")
            continue
        if name not in selected:
            continue
        started = time.monotonic()
        m = load(name)
        outcome = _catch_up(conn, m, params, head, force=rebuild, progress=progress)
        if isinstance(outcome, str):
            rebuilds.append((m, params, outcome))
            continue
        outcome.seconds = time.monotonic() - started
        results[name] = outcome
    for result in _rebuild_together(conn, rebuilds, head, progress):
        results[result.name] = result
    generation.backfill(conn)
    _prune_journal(conn, recipe)
    return [results[n] for n in MATERIALIZERS if n in results]


def bring_up_to_date(conn: apsw.Connection, m: Materializer, params: Params) -> RunResult:
    """One materializer that is not in the registry (a user's projection), inside the
    caller's write transaction: caught up, or rebuilt when it must be."""
    ensure_state_table(conn)
    head = reader.journal_head(conn)
    started = time.monotonic()
    outcome = _catch_up(conn, m, params, head, force=False)
    if isinstance(outcome, str):
        (outcome,) = _rebuild_together(conn, [(m, params, outcome)], head)
    else:
        outcome.seconds = time.monotonic() - started
    return outcome


def freshness(conn: apsw.Connection, recipe: Recipe) -> list[Freshness]:
    """Each registered materializer as fresh, stale (and why) or disabled; read only."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    has_state = "materializer_state" in tables
    head = reader.journal_head(conn)
    report = []
    for name in MATERIALIZERS:
        enabled, params = recipe.materializer(name)
        if not enabled:
            report.append(Freshness(name, "disabled", "disabled in the recipe", False))
            continue
        m = load(name)
        state = _state(conn, name) if has_state else None
        reason = _rebuild_reason(conn, m, params, state)
        if reason:
            report.append(Freshness(name, "stale", reason, True))
            continue
        assert state is not None
        added, removed = reader.net_changes(conn, m.consumes, state[3], head)
        behind = len(added) + len(removed)
        if behind:
            noun = "change" if behind == 1 else "changes"
            report.append(Freshness(name, "stale", f"{behind} {noun} behind the eventlog",
                                    not m.incremental))
        else:
            report.append(Freshness(name, "fresh", "", False))
    return report


# -- one materializer ------------------------------------------------------------


def _catch_up(conn: apsw.Connection, m: Materializer, params: Params, head: int, *,
              force: bool, progress: Progress | None = None) -> RunResult | str:
    """Fold the journal since the watermark; or the reason it must be rebuilt instead."""
    state = _state(conn, m.name)
    reason = "--rebuild" if force else _rebuild_reason(conn, m, params, state)
    if reason:
        return reason
    assert state is not None
    watermark = state[3]
    if watermark >= head:
        return RunResult(m.name, "fresh")
    if reader.journal_start(conn) > watermark + 1:
        return "the change journal no longer reaches back to its watermark"
    added_ids, removed = reader.net_changes(conn, m.consumes, watermark, head)
    if not added_ids and not removed:
        _save_state(conn, m, params, head)
        return RunResult(m.name, "fresh")
    if not m.incremental:
        return "batch: its inputs changed"
    events = reader.read_events(conn, added_ids)
    if len(events) != len(added_ids):
        return "the journal and the eventlog disagree"
    if removed and m.remove(conn, removed, params) is False:
        return "a removal it cannot fold"  # its tables are dropped before the rebuild
    progress = progress or Silent()
    progress.start(m.name, len(events))
    try:
        for chunk in _chunks(events, _BATCH):
            if m.add(conn, chunk, params) is False:
                return "new events it cannot fold in place"
            progress.advance(len(chunk))
    finally:
        progress.finish()
    details = _finish(conn, m, params, progress)
    _save_state(conn, m, params, head)
    generation.draw(conn, m.name)
    return RunResult(m.name, "caught up", added=len(events), removed=len(removed),
                     details=details)


def _finish(conn: apsw.Connection, m: Materializer, params: Params,
            progress: Progress | None) -> dict[str, Any]:
    """The optional hook a materializer runs once after its last add() of a run (the
    embeddings embed everything then, so their progress knows the total); its figures."""
    finish = getattr(m, "finish", None)
    return dict(finish(conn, params, progress)) if callable(finish) else {}


def _rebuild_reason(conn: apsw.Connection, m: Materializer, params: Params,
                    state: tuple[str, str, str, int] | None) -> str:
    if state is None:
        return "never built"
    version, phash, epoch, _ = state
    if version != version_key(m):
        return f"version changed ({version} -> {version_key(m)})"
    if phash != params_hash(params):
        return "recipe parameters changed"
    if epoch != _epoch(conn):
        return "the eventlog was rebuilt from nothing (--full or a new --until)"
    return ""


def _rebuild_together(conn: apsw.Connection, rebuilds: list[tuple[Materializer, Params, str]],
                      head: int, progress: Progress | None = None) -> list[RunResult]:
    """Rebuild several materializers in one pass over the log (decoded once, shared)."""
    if not rebuilds:
        return []
    results = []
    for m, params, reason in rebuilds:
        started = time.monotonic()
        _drop_tables(conn, m.tables())
        m.create(conn, params)
        results.append(RunResult(m.name, "rebuilt", reason,
                                 seconds=time.monotonic() - started))
    deferred = [_take_indexes(conn, m.tables()) if m.index_after_rebuild else []
                for m, _, _ in rebuilds]
    consumes = sorted({p for m, _, _ in rebuilds for p in m.consumes})
    progress = progress or Silent()
    progress.start(" ".join(m.name for m, _, _ in rebuilds), reader.count(conn, consumes))
    try:
        for chunk in reader.batches(conn, consumes):
            for (m, params, _), result in zip(rebuilds, results, strict=True):
                prefixes = tuple(m.consumes)
                mine = [e for e in chunk if e.event_type.startswith(prefixes)]
                if mine:
                    started = time.monotonic()
                    m.add(conn, mine, params)
                    result.seconds += time.monotonic() - started
                    result.added += len(mine)
            progress.advance(len(chunk))
    finally:
        progress.finish()
    for (m, params, _), result in zip(rebuilds, results, strict=True):
        started = time.monotonic()
        result.details = _finish(conn, m, params, progress)
        result.seconds += time.monotonic() - started
    for indexes, result in zip(deferred, results, strict=True):
        started = time.monotonic()
        for sql in indexes:
            conn.execute(sql)
        result.seconds += time.monotonic() - started
    for m, params, _ in rebuilds:
        _save_state(conn, m, params, head)
        generation.draw(conn, m.name)
    return results


def _take_indexes(conn: apsw.Connection, tables: Sequence[str]) -> list[str]:
    """Drop the indexes created on these tables; their SQL, to create them again."""
    marks = ", ".join("?" * len(tables))
    found = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks}) ORDER BY name", list(tables)).fetchall()
    for name, _ in found:
        conn.execute(f'DROP INDEX "{name}"')
    return [str(sql) for _, sql in found]


def _drop_tables(conn: apsw.Connection, names: Sequence[str]) -> None:
    kinds = {str(n): str(t) for n, t in conn.execute("SELECT name, type FROM sqlite_master")}
    for table in reversed(names):
        kind = kinds.get(table)
        if kind == "view":
            conn.execute(f'DROP VIEW "{table}"')
        elif kind == "table":
            conn.execute(f'DROP TABLE "{table}"')


def _drop_disabled(conn: apsw.Connection, name: str) -> bool:
    if _state(conn, name) is None:
        return False
    _drop_tables(conn, load(name).tables())
    conn.execute("DELETE FROM materializer_state WHERE name = ?", (name,))
    generation.draw(conn, name)
    return True


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# -- bookkeeping -------------------------------------------------------------------


def _epoch(conn: apsw.Connection) -> str:
    return str(scrape_state.log_epoch(conn))


def _state(conn: apsw.Connection, name: str) -> tuple[str, str, str, int] | None:
    try:
        row = conn.execute("SELECT version, params_hash, log_epoch, watermark "
                           "FROM materializer_state WHERE name = ?", (name,)).fetchone()
    except apsw.SQLError:  # no state table yet
        return None
    return (row[0], row[1], row[2], int(row[3])) if row else None


def _save_state(conn: apsw.Connection, m: Materializer, params: Params, head: int) -> None:
    conn.execute("INSERT OR REPLACE INTO materializer_state VALUES (?, ?, ?, ?, ?)",
                 (m.name, version_key(m), params_hash(params), _epoch(conn), head))


def _prune_journal(conn: apsw.Connection, recipe: Recipe) -> None:
    """Drop journal rows that every materializer able to catch up has folded."""
    floors = []
    for name in MATERIALIZERS:
        enabled, params = recipe.materializer(name)
        state = _state(conn, name)
        if enabled and state is not None and not _rebuild_reason(conn, load(name), params, state):
            floors.append(state[3])
    # a user's projection (kenning.Kenning.project) catches up from its watermark too
    epoch = _epoch(conn)
    floors.extend(int(w) for w, e in conn.execute(  # type: ignore[call-overload]
        "SELECT watermark, log_epoch FROM materializer_state WHERE name LIKE ?",
        (PROJECTION_PREFIX + "%",)) if e == epoch)
    floor = min(floors) if floors else reader.journal_head(conn)
    store.prune_journal(conn, floor)


def _selection(recipe: Recipe, names: Sequence[str]) -> set[str]:
    from kenning.errors import KenningError

    unknown = [n for n in names if n not in MATERIALIZERS]
    if unknown:
        raise KenningError(f"unknown materializer {unknown[0]!r}; "
                           f"choose from {', '.join(MATERIALIZERS)}")
    disabled = [n for n in names if not recipe.materializer(n)[0]]
    if disabled:
        raise KenningError(f"materializer {disabled[0]!r} is disabled in the recipe "
                           f"({recipe.source}); set enabled = true to run it")
    return set(names) if names else set(MATERIALIZERS)
