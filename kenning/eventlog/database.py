"""Opening the SQLite file: schema, format version, WAL, and the write lock.

The eventlog table holds the events; every other table here is local
bookkeeping that never enters the digest.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw

from kenning import FORMAT_VERSION
from kenning.errors import KenningError

# A 1,536-byte vector fits on a 16 KiB page; on SQLite's default 4 KiB page each one
# spills into an overflow page of its own (flask's database: 91 MB against 70 MB).
PAGE_SIZE = 16384

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


def connect(path: Path, *, write: bool, create: bool = False) -> apsw.Connection:
    """Open a kenning database, refusing anything it cannot trust and changing nothing
    before it knows the file is kenning's.

    A reader (`write=False`) opens the file read-only, so a database on read-only
    media, or one whose file or folder is not writable, can still be read. A writer
    (`create=True`: the file may be new) takes WAL mode, and on finding the database
    locked waits KENNING_LOCK_TIMEOUT seconds (default 10) for the other process,
    then gives up with a clear message."""
    if create and not write:
        raise ValueError("a database can only be created by a writer")
    if not path.exists():
        if not create:
            raise KenningError(f"no kenning database at {path}; run `kenning scrape` first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KenningError(f"cannot create {path.parent}: {exc.strerror}") from exc
    elif path.is_dir():
        raise KenningError(f"{path} is a directory, not a database file")
    conn, tables = _open_writer(path) if write else _open_reader(path)
    try:
        if not tables and not create:
            raise KenningError(f"{path} holds no eventlog yet; run `kenning scrape` first")
        if tables and "eventlog" not in tables:
            raise KenningError(
                f"{path} is an SQLite file but not a kenning database; pass another --db"
            )
        if "meta" in tables:
            with translated(path):
                _check_version(conn, path)
        if write:
            with translated(path):
                if not tables:  # only a new, empty file takes a page size
                    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
                conn.execute("PRAGMA journal_mode=WAL")  # the first change this makes
                conn.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def another_reader(conn: apsw.Connection) -> apsw.Connection:
    """A second read-only connection to the file `conn` reads (checked when `conn` was
    opened), to read beside it from another thread."""
    return _open_reader(Path(conn.filename))[0]


def _open_reader(path: Path) -> tuple[apsw.Connection, set[str]]:
    """Read-only. On read-only media SQLite cannot create the WAL index a WAL database
    needs; when no write-ahead log is there to read, the file alone is the whole
    database and is opened as immutable instead. (Elsewhere a reader, like any SQLite
    reader of a WAL database, leaves the empty -wal and -shm files it needed; the next
    writer to close removes them.)"""
    uri = "file:" + urllib.parse.quote(path.absolute().as_posix())
    flags = apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI
    try:
        return _opened(path, uri + "?mode=ro", flags)
    except KenningError as exc:
        if not isinstance(exc.__cause__, apsw.CantOpenError):
            raise
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise KenningError(
                f"cannot read {path}: it is read-only and has an unfinished write-ahead "
                f"log ({wal.name}) that SQLite cannot open; copy the database with its "
                "-wal and -shm files to a writable place and read it there"
            ) from exc
    return _opened(path, uri + "?immutable=1", flags)


def _open_writer(path: Path) -> tuple[apsw.Connection, set[str]]:
    if path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        raise read_only_error(path)
    conn, tables = _opened(path, str(path), apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
    if conn.readonly("main"):  # SQLite fell back to reading only (e.g. a read-only mount)
        conn.close()
        raise read_only_error(path)
    return conn, tables


def _opened(path: Path, name: str, flags: int) -> tuple[apsw.Connection, set[str]]:
    """The connection and the names of its tables, read before anything is changed."""
    busy_seconds = float(os.environ.get("KENNING_LOCK_TIMEOUT", "10"))
    conn = None
    try:
        with translated(path):
            conn = apsw.Connection(name, flags=flags)
            conn.set_busy_timeout(int(busy_seconds * 1000))
            # reads through a memory map: loading 100k vectors for scry is 3x faster
            conn.execute("PRAGMA mmap_size=1073741824")
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return conn, tables


def ensure_schema(conn: apsw.Connection) -> None:
    """Create the tables (inside the caller's transaction) and stamp the versions."""
    conn.execute(_SCHEMA)
    conn.execute(
        "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('format_version', ?)",
        (str(SCHEMA_VERSION), str(FORMAT_VERSION)),
    )


def _check_version(conn: apsw.Connection, path: Path) -> None:
    found = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    versions = {}
    for key, current in (("schema_version", SCHEMA_VERSION), ("format_version", 0)):
        text = found.get(key, str(current))
        try:
            versions[key] = int(text)
        except (TypeError, ValueError):
            raise damaged_error(path, f"its {key} is {text!r}, not a number") from None
    schema = versions["schema_version"]
    if schema > SCHEMA_VERSION or versions["format_version"] > FORMAT_VERSION:
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


def read_only_error(path: Path | None) -> KenningError:
    where = str(path) if path is not None else "the database"
    return KenningError(f"{where} is read-only (the file, its folder or the disk): kenning "
                        "can read it but not update it; copy it somewhere writable or pass "
                        "another --db")


def damaged_error(path: Path | None, detail: str) -> KenningError:
    where = str(path) if path is not None else "the database"
    return KenningError(f"{where} is damaged ({detail}); everything in it is rebuilt from "
                        "the repository: delete it and run `kenning scrape`")


def explain(exc: BaseException, path: Path | None = None) -> KenningError | None:
    """What an SQLite error means for the user, as one line; None when it is not one
    that a user can act on (then it is a bug, not a situation)."""
    where = str(path) if path is not None else "the database"
    if isinstance(exc, apsw.BusyError):
        return locked_error(path or Path("the database"))
    if isinstance(exc, apsw.FullError):
        return KenningError(f"disk full: cannot write {where}; nothing was changed (free "
                            "some space and run the command again)")
    if isinstance(exc, apsw.ReadOnlyError):
        return read_only_error(path)
    if isinstance(exc, apsw.CorruptError):
        return damaged_error(path, str(exc))
    if isinstance(exc, apsw.NotADBError):
        return KenningError(f"{where} is not a usable kenning database (corrupt or not "
                            "SQLite); move it away or pass another --db")
    if isinstance(exc, apsw.CantOpenError | apsw.PermissionsError):
        return KenningError(f"cannot open {where} ({exc}); check the path and its "
                            "permissions")
    if isinstance(exc, apsw.IOError):
        return KenningError(f"cannot read or write {where} (disk I/O error: {exc}); "
                            "nothing was changed")
    return None


@contextlib.contextmanager
def translated(path: Path | None) -> Iterator[None]:
    """SQLite errors a user can act on become one-line KenningErrors."""
    try:
        yield
    except apsw.Error as exc:
        known = explain(exc, path)
        if known is None:
            raise
        raise known from exc


@contextlib.contextmanager
def write_transaction(conn: apsw.Connection, path: Path) -> Iterator[None]:
    """One IMMEDIATE transaction: takes the write lock up front, all or nothing.

    SQLite may roll a transaction back by itself (a full disk does): then there is
    nothing left to roll back, and the error that caused it is the one reported."""
    with translated(path):
        try:
            conn.execute("BEGIN IMMEDIATE")
        except apsw.BusyError as exc:
            raise locked_error(path) from exc
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(apsw.Error):
                    conn.execute("ROLLBACK")
            raise


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
            for suffix in ("", "-wal", "-shm", "-vectors"):  # -vectors: scry/matrix.py
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


def dict_rows(conn: apsw.Connection, sql: str, args: Any = ()) -> list[dict[str, Any]]:
    """The rows of a query as dicts keyed by column name (none: an empty list)."""
    cursor = conn.execute(sql, args)
    try:
        columns = [d[0] for d in cursor.getdescription()]
    except apsw.ExecutionCompleteError:  # no rows at all
        return []
    return [dict(zip(columns, row, strict=True)) for row in cursor]
