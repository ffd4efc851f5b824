"""Digests of the materialized tables: one SHA-256 per table, and the first differing row.

A table's digest is a pure function of what the table *means*, so that an
incremental build, a rebuild and a build on another machine agree:

- rows in primary-key order (or, where the key is only a rowid, by a UNIQUE
  content key, else by every column), each encoded with `canonical_json`;
- a rowid alias (`documents.doc_id`) is a local handle that depends on
  insertion order: it is left out;
- floats are written with FLOAT_DIGITS significant digits (-0.0 is 0.0);
- a vector is represented by its length and whether it is unit length, never
  by its bytes (the model's last bits differ across CPUs); the row's `model`
  and `text_hash` columns say which vector it is. Other blobs by their SHA-256;
- virtual tables (FTS5) and their shadow tables are an index over other
  tables, and SQL views are queries over them: neither is digested.

Each materializer's tables come from its `tables()`; tables it has not built
(disabled, never run) are absent from the digest.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw

from kenning import __version__
from kenning.errors import KenningError
from kenning.eventlog import reader
from kenning.eventlog import state as scrape_state
from kenning.eventlog.digest import Digest, digest, fingerprint
from kenning.eventlog.events import canonical_json
from kenning.materialize.registry import MATERIALIZERS, load

TABLE_DIGEST_VERSION = 1
FLOAT_DIGITS = 9
# (table, column) pairs holding float32 vectors: digested as (length, unit length?)
VECTOR_COLUMNS = frozenset({("embeddings", "vector")})
_UNIT_TOLERANCE = 1e-3


@dataclass(frozen=True)
class TableDigest:
    table: str
    materializer: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class RowDifference:
    table: str
    position: int  # 1-based row number in digest order
    key: dict[str, Any] | None  # the ordering key of the first differing row
    ours: str | None  # its canonical encoding, or None when that side has fewer rows
    theirs: str | None


@dataclass(frozen=True)
class _Layout:
    table: str
    columns: tuple[str, ...]  # digested columns, in table order
    order: tuple[str, ...]  # ORDER BY columns


def materialized_tables(conn: apsw.Connection) -> list[tuple[str, str]]:
    """(materializer, table) for every plain table a registered materializer owns and
    has built, in registry order."""
    kinds = {str(name): str(sql or "") for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'")}
    found = []
    for name in MATERIALIZERS:
        for table in load(name).tables():
            sql = kinds.get(table)
            if sql is not None and not sql.upper().startswith("CREATE VIRTUAL TABLE"):
                found.append((name, table))
    return found


def table_digests(conn: apsw.Connection) -> list[TableDigest]:
    """One digest per materialized table, in registry order."""
    digests = []
    for materializer, table in materialized_tables(conn):
        layout = _layout(conn, table)
        h = hashlib.sha256(_header(layout).encode())
        n = 0
        for _key, encoded in _encoded_rows(conn, layout):
            h.update(encoded.encode("utf-8"))
            h.update(b"\n")
            n += 1
        digests.append(TableDigest(table, materializer, n, h.hexdigest()))
    return digests


def first_row_difference(ours: apsw.Connection, theirs: apsw.Connection,
                         table: str) -> RowDifference | None:
    """The first row (in digest order) where `table` differs between two databases."""
    left_layout, right_layout = _layout(ours, table), _layout(theirs, table)
    if left_layout != right_layout:
        return RowDifference(table, 0, None, _header(left_layout), _header(right_layout))
    left = _encoded_rows(ours, left_layout)
    right = _encoded_rows(theirs, right_layout)
    position = 0
    while True:
        position += 1
        a, b = next(left, None), next(right, None)
        if a is None and b is None:
            return None
        if a is None or b is None or a[1] != b[1]:
            key = (a or b or (None, ""))[0]
            return RowDifference(table, position, key, a[1] if a else None,
                                 b[1] if b else None)


# -- layout and encoding -----------------------------------------------------------


def _header(layout: _Layout) -> str:
    return canonical_json({"digest": TABLE_DIGEST_VERSION, "table": layout.table,
                           "columns": list(layout.columns), "order": list(layout.order),
                           "float_digits": FLOAT_DIGITS}) + "\n"


def _layout(conn: apsw.Connection, table: str) -> _Layout:
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    # cid, name, type, notnull, default, pk
    columns = [str(r[1]) for r in info]
    keyed = sorted((int(r[5]), str(r[1]), str(r[2]).upper()) for r in info if int(r[5]) > 0)
    without_rowid = "WITHOUT ROWID" in _sql(conn, table).upper()
    local: set[str] = set()
    if len(keyed) == 1 and keyed[0][2] == "INTEGER" and not without_rowid:
        local.add(keyed[0][1])  # a rowid alias: a handle, not content
        keyed = []
    order = [name for _, name, _ in keyed] or _unique_key(conn, table, local)
    digested = tuple(c for c in columns if c not in local)
    return _Layout(table, digested, tuple(order) if order else digested)


def _unique_key(conn: apsw.Connection, table: str, local: set[str]) -> list[str]:
    """The columns of the table's first UNIQUE index (by name) without local handles."""
    indexes = sorted((str(r[1]), int(r[2]))
                     for r in conn.execute(f'PRAGMA index_list("{table}")'))
    for name, unique in indexes:
        if not unique:
            continue
        cols = [str(r[2]) for r in conn.execute(f'PRAGMA index_info("{name}")')]
        if cols and all(c is not None and c != "None" and c not in local for c in cols):
            return cols
    return []


def _sql(conn: apsw.Connection, table: str) -> str:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    return str(row[0]) if row and row[0] else ""


def _encoded_rows(conn: apsw.Connection,
                  layout: _Layout) -> Iterator[tuple[dict[str, Any], str]]:
    select = ", ".join(f'"{c}"' for c in layout.columns)
    order = ", ".join(f'"{c}"' for c in layout.order)
    kinds = [(layout.table, c) in VECTOR_COLUMNS for c in layout.columns]
    positions = [layout.columns.index(c) for c in layout.order]
    for row in conn.execute(f'SELECT {select} FROM "{layout.table}" ORDER BY {order}'):
        values = [_vector(v) if is_vector else _value(v)
                  for v, is_vector in zip(row, kinds, strict=True)]
        key = {layout.columns[i]: values[i] for i in positions}
        yield key, canonical_json(values)


def _value(value: Any) -> Any:
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, bytes):
        return {"blob": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    return value


def _float(value: float) -> Any:
    if math.isnan(value) or math.isinf(value):
        return {"float": repr(value)}
    rounded = float(f"{value:.{FLOAT_DIGITS}g}")
    return 0.0 if rounded == 0 else rounded


def _vector(value: Any) -> Any:
    if not isinstance(value, bytes) or len(value) % 4:
        return _value(value)
    n = len(value) // 4
    norm = math.sqrt(math.fsum(x * x for x in struct.unpack(f"<{n}f", value)))
    return {"vector": n, "unit": abs(norm - 1.0) <= _UNIT_TOLERANCE}


# -- the whole database, and the digest file of `kenning digest --write/--check` ----------
#
# The file is JSON: the eventlog's digest, its per-type counts and per-type hashes, the
# tables' digests (with --all), and one 16-hex content hash per event in seq order.
# Those per-event hashes are what lets `--check` name the first differing event exactly
# (a chained hash per block of events could only name the block) at 17 bytes an event;
# they hash the content, not the stored event_id column, so a row edited by hand shows.
# It also records what the database was built from ("input": the target commit, the
# --until cutoff, the scrape options, the recipe's hash) and by which kenning, so that
# `--check` names a different input before it lists differing rows (DESIGN I1). Files
# written before those were recorded are still read; their input is simply unknown.

DIGEST_FILE_VERSION = 1


@dataclass(frozen=True)
class CheckReport:
    ok: bool
    lines: list[str]  # what differs, for people; empty when ok


def digest_all(conn: apsw.Connection) -> tuple[Digest, list[TableDigest]]:
    return digest(conn), table_digests(conn)


def recipe_hash(values: dict[str, Any]) -> str:
    """A short hash of an effective recipe (its values, not its file's text)."""
    return hashlib.sha256(canonical_json(values).encode()).hexdigest()[:16]


def record(conn: apsw.Connection, *, tables: bool, recipe: str | None = None
           ) -> dict[str, Any]:
    """The content of a digest file for this database; `recipe` is the hash of the
    effective recipe (recipe_hash), when there is one."""
    fp = fingerprint(conn)
    scraped = scrape_state.read(conn)
    value: dict[str, Any] = {
        "kenning_digest_file": DIGEST_FILE_VERSION,
        "kenning_version": __version__,
        "format_version": fp.digest.format_version,
        "input": {"target": scraped.target, "cutoff": scraped.cutoff,
                  "scrape_options": scraped.options, "recipe": recipe},
        "reproducible": scraped.reproducible,
        "eventlog": {"sha256": fp.digest.sha256, "events": fp.digest.total,
                     "counts": fp.digest.counts, "type_sha256": fp.type_sha256},
        "event_hashes": fp.event_hashes,
    }
    if tables:
        value["table_digest_version"] = TABLE_DIGEST_VERSION
        value["tables"] = {t.table: {"materializer": t.materializer, "rows": t.rows,
                                     "sha256": t.sha256} for t in table_digests(conn)}
    return value


def dump_record(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def read_record(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KenningError(f"cannot read the digest file {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KenningError(f"{path} is not a kenning digest file (not JSON: {exc})") from exc
    if not isinstance(value, dict) or not isinstance(value.get("eventlog"), dict):
        raise KenningError(f"{path} is not a kenning digest file; write one with "
                           "`kenning digest --write FILE`")
    version = value.get("kenning_digest_file", 0)
    if not isinstance(version, int):
        raise KenningError(f"{path} is not a kenning digest file (its version is {version!r})")
    if version > DIGEST_FILE_VERSION:
        raise KenningError(f"{path} was written by a newer kenning; upgrade kenning")
    return value


def check(conn: apsw.Connection, recorded: dict[str, Any], *, recipe: str | None = None
          ) -> CheckReport:
    """Compare the database with a digest file: counts, the first differing event, tables.
    When they differ and were built from different inputs, the first line says which."""
    now = record(conn, tables="tables" in recorded, recipe=recipe)
    lines: list[str] = []
    was, cur = recorded["eventlog"], now["eventlog"]
    if was.get("sha256") != cur["sha256"]:
        lines.append(f"eventlog: recorded {str(was.get('sha256'))[:16]}, "
                     f"now {cur['sha256'][:16]}")
        lines.extend(_count_lines(was, cur))
        lines.extend(_first_event_lines(conn, list(recorded.get("event_hashes") or []),
                                        now["event_hashes"]))
    if "tables" in recorded:
        if recorded.get("table_digest_version") != TABLE_DIGEST_VERSION:
            lines.append(f"table digest version {recorded.get('table_digest_version')} "
                         f"recorded, {TABLE_DIGEST_VERSION} now")
        lines.extend(_table_lines(recorded["tables"], now["tables"]))
    inputs = _input_line(recorded, now)
    if lines and inputs:
        lines.insert(0, inputs)
    return CheckReport(not lines, lines)


def _input_line(recorded: dict[str, Any], now: dict[str, Any]) -> str | None:
    """One line naming every input that differs (recorded vs now), or None. An input the
    file does not record (an older kenning wrote it) is not compared."""
    was = recorded.get("input")
    was = was if isinstance(was, dict) else {}
    cur = now["input"]
    parts = []
    if "target" in was and was["target"] != cur["target"]:
        parts.append(f"commit {_short(was['target'])} vs {_short(cur['target'])}")
    if "cutoff" in was and was["cutoff"] != cur["cutoff"]:
        parts.append(f"--until {was['cutoff'] or '(none)'} vs {cur['cutoff'] or '(none)'}")
    if "scrape_options" in was and was["scrape_options"] != cur["scrape_options"]:
        differing = _option_keys(was["scrape_options"], cur["scrape_options"])
        parts.append(f"scrape options ({differing})")
    if was.get("recipe") and cur["recipe"] and was["recipe"] != cur["recipe"]:
        parts.append(f"recipe {was['recipe']} vs {cur['recipe']}")
    if recorded.get("format_version") != now["format_version"]:
        parts.append(f"eventlog format {recorded.get('format_version')} vs "
                     f"{now['format_version']} (every event is encoded differently)")
    if "reproducible" in recorded and recorded["reproducible"] != now["reproducible"]:
        worktree = {True: "committed files only", False: "uncommitted files too (--worktree)"}
        parts.append(f"{worktree[bool(recorded['reproducible'])]} vs "
                     f"{worktree[now['reproducible']]}")
    if "kenning_version" in recorded and recorded["kenning_version"] != now["kenning_version"]:
        parts.append(f"kenning {recorded['kenning_version']} vs {now['kenning_version']}")
    return f"different input (recorded vs now): {'; '.join(parts)}" if parts else None


def _short(commit: Any) -> str:
    return str(commit)[:12] if commit else "(none)"


def _option_keys(was: Any, now: Any) -> str:
    """Which scrape options differ between two fingerprints (canonical JSON objects)."""
    try:
        a, b = json.loads(was or "{}"), json.loads(now or "{}")
    except (TypeError, json.JSONDecodeError):
        return "differ"
    if not isinstance(a, dict) or not isinstance(b, dict):
        return "differ"
    return ", ".join(k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)) or "differ"


def _count_lines(was: dict[str, Any], cur: dict[str, Any]) -> list[str]:
    old_counts, new_counts = was.get("counts", {}), cur["counts"]
    old_hashes, new_hashes = was.get("type_sha256", {}), cur["type_sha256"]
    lines = [f"  {'event type':<20} {'recorded':>9} {'now':>9}"]
    for t in sorted(set(old_counts) | set(new_counts)):
        a, b = old_counts.get(t, 0), new_counts.get(t, 0)
        same = old_hashes.get(t) == new_hashes.get(t)
        note = "" if same else ("  contents differ" if a == b else "")
        mark = " " if same else "*"
        lines.append(f"{mark} {t:<20} {a:>9} {b:>9}{note}")
    lines.append(f"  {'total':<20} {was.get('events', 0):>9} {cur['events']:>9}")
    return lines


def _first_event_lines(conn: apsw.Connection, was: list[str], now: list[str]) -> list[str]:
    seq = next((i + 1 for i, (a, b) in enumerate(zip(was, now, strict=False)) if a != b),
               min(len(was), len(now)) + 1)
    if seq > max(len(was), len(now)):
        return ["  the events are the same; their seq numbering differs"]
    lines = [f"first difference at seq {seq}:"]
    if seq <= len(was):
        moved = now.index(was[seq - 1]) + 1 if was[seq - 1] in now else None
        where = f"now at seq {moved}" if moved else "no longer in the log"
        lines.append(f"  recorded: event {was[seq - 1]} ({where})")
    else:
        lines.append("  recorded: (no event: the recorded log ends here)")
    if seq <= len(now):
        event = reader.event_at(conn, seq)
        if event is None:  # rows deleted by hand: seq has gaps, so no row has this one
            lines.append(f"  now:      event {now[seq - 1]} (the log's seq numbering has "
                         "gaps: rows were deleted outside kenning)")
            return lines
        lines.append(f"  now:      event {now[seq - 1]}: {event.event_type} {event.timestamp} "
                     f"{event.source_id} {event.source_file or ''}".rstrip())
        lines.append(f"            data {event.data[:4000]}")
    else:
        lines.append("  now:      (no event: the log ends here)")
    return lines


def _table_lines(was: dict[str, Any], now: dict[str, Any]) -> list[str]:
    lines = []
    for table in sorted(set(was) | set(now)):
        a, b = was.get(table), now.get(table)
        if a is None or b is None:
            lines.append(f"table {table}: {'not recorded' if a is None else 'absent now'}")
        elif a.get("sha256") != b["sha256"]:
            lines.append(f"table {table}: rows {a.get('rows')} recorded, {b['rows']} now"
                         + ("; contents differ" if a.get("rows") == b["rows"] else ""))
    return lines
