"""Opening the SQLite file: schema, format version, WAL, and the write lock.

The eventlog table holds the events; every other table here is local
bookkeeping that never enters the digest.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import apsw

from kenning import FORMAT_VERSION
from kenning.errors import KenningError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS eventlog(
    seq         INTEGER NOT NULL,
    event_id    TEXT NOT NULL PRIMARY KEY,
    event_type  TEXT NOT NULL,
    timestamp   TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    source_file TEXT,
    data        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS eventlog_seq ON eventlog(seq);
CREATE INDEX IF NOT EXISTS eventlog_order ON eventlog(timestamp, event_type, source_id, event_id);
CREATE INDEX IF NOT EXISTS eventlog_type ON eventlog(event_type, timestamp);
CREATE INDEX IF NOT EXISTS eventlog_file ON eventlog(source_file);
-- bookkeeping: which units each scraper has written, and their events
CREATE TABLE IF NOT EXISTS scrape_units(
    scraper TEXT NOT NULL, unit TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status TEXT NOT NULL, PRIMARY KEY(scraper, unit)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS unit_events(
    scraper TEXT NOT NULL, unit TEXT NOT NULL, event_id TEXT NOT NULL,
    PRIMARY KEY(scraper, unit, event_id)) WITHOUT ROWID;
-- bookkeeping: every event added (+1) or removed (-1), for materializers to catch up
-- (a removal keeps the whole event, since the eventlog no longer has it)
CREATE TABLE IF NOT EXISTS eventlog_changes(
    change INTEGER PRIMARY KEY, op INTEGER NOT NULL, event_id TEXT NOT NULL,
    event_type TEXT NOT NULL, timestamp TEXT, source_id TEXT, source_file TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS scrape_runs(
    run INTEGER PRIMARY KEY, finished_at TEXT NOT NULL, target TEXT, cutoff TEXT,
    tool_version TEXT NOT NULL, options TEXT NOT NULL, added INTEGER NOT NULL,
    removed INTEGER NOT NULL, seconds REAL NOT NULL, warnings TEXT NOT NULL);
"""


def connect(path: Path, *, create: bool) -> apsw.Connection:
    """Open (or create) a kenning database, refusing anything it cannot trust.

    A writer that finds the database locked waits KENNING_LOCK_TIMEOUT seconds
    (default 10) for the other process, then gives up with a clear message."""
    busy_seconds = float(os.environ.get("KENNING_LOCK_TIMEOUT", "10"))
    if not path.exists():
        if not create:
            raise KenningError(f"no kenning database at {path}; run `kenning scrape` first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KenningError(f"cannot create {path.parent}: {exc.strerror}") from exc
    elif path.is_dir():
        raise KenningError(f"{path} is a directory, not a database file")
    try:
        conn = apsw.Connection(str(path))
        conn.set_busy_timeout(int(busy_seconds * 1000))
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchall()
        del mode
        conn.execute("PRAGMA synchronous=NORMAL")
        # reads through a memory map: loading 100k vectors for scry is 3x faster
        conn.execute("PRAGMA mmap_size=1073741824")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except apsw.BusyError as exc:
        raise locked_error(path) from exc
    except (apsw.CantOpenError, apsw.ReadOnlyError, apsw.PermissionsError) as exc:
        raise KenningError(f"cannot open {path} ({exc}); check the path and its permissions"
                           ) from exc
    except (apsw.NotADBError, apsw.CorruptError) as exc:
        raise KenningError(
            f"{path} is not a usable kenning database (corrupt or not SQLite); "
            "move it away or pass another --db"
        ) from exc
    if not tables and not create:
        raise KenningError(f"{path} holds no eventlog yet; run `kenning scrape` first")
    if tables and "eventlog" not in tables:
        raise KenningError(
            f"{path} is an SQLite file but not a kenning database; pass another --db"
        )
    if "meta" in tables:
        _check_version(conn, path)
    return conn


def ensure_schema(conn: apsw.Connection) -> None:
    """Create the tables (inside the caller's transaction) and stamp the versions."""
    conn.execute(_SCHEMA)
    conn.execute(
        "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('format_version', ?)",
        (str(SCHEMA_VERSION), str(FORMAT_VERSION)),
    )


def _check_version(conn: apsw.Connection, path: Path) -> None:
    found = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    schema = int(found.get("schema_version", SCHEMA_VERSION))
    if schema > SCHEMA_VERSION or int(found.get("format_version", 0)) > FORMAT_VERSION:
        raise KenningError(
            f"{path} was written by a newer kenning (schema {schema}); "
            "upgrade kenning or pass another --db"
        )


def locked_error(path: Path) -> KenningError:
    return KenningError(
        f"{path} is locked by another kenning process (a scrape is running); "
        "wait for it to finish and try again",
        exit_code=3,
    )


@contextlib.contextmanager
def write_transaction(conn: apsw.Connection, path: Path) -> Iterator[None]:
    """One IMMEDIATE transaction: takes the write lock up front, all or nothing."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except apsw.BusyError as exc:
        raise locked_error(path) from exc
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def deleted_if_new_and_failed(path: Path) -> Iterator[None]:
    """A database file that this command created is removed again if the command
    fails, so a failed first scrape leaves nothing behind (an existing database
    is protected by its transaction instead)."""
    existed = path.exists()
    try:
        yield
    except BaseException:
        if not existed:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise


def get_meta(conn: apsw.Connection, key: str) -> str | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except apsw.SQLError:  # no schema yet
        return None
    return row[0] if row else None


def set_meta(conn: apsw.Connection, key: str, value: str | None) -> None:
    if value is None:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
