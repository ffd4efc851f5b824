"""Generation tokens: which state of a materializer's tables a cache was made from.

Every run that changes a materializer's tables draws it a new token (table
`materializer_generation`, local bookkeeping beside `materializer_state`). A cache
kept outside the database, such as the vector matrix file (scry/matrix.py), records
the tokens it was read under and is used only while they are still current.

Tokens are random on purpose: they must differ between any two states of any two
databases that may ever sit at one path (a rebuild of the same log gives other
doc_ids, and a database file may be replaced). They are never part of the eventlog
or of a table's digest.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

DDL = """
CREATE TABLE IF NOT EXISTS materializer_generation(
    name TEXT PRIMARY KEY, token TEXT NOT NULL) WITHOUT ROWID;
"""
_TOKEN = "lower(hex(randomblob(16)))"  # SQL: 128 random bits, drawn by SQLite


def draw(conn: apsw.Connection, name: str) -> None:
    """A new token for the named materializer (inside the run's write transaction)."""
    conn.execute(f"INSERT OR REPLACE INTO materializer_generation VALUES (?, {_TOKEN})",
                 (name,))


def backfill(conn: apsw.Connection) -> None:
    """A token for every built materializer that has none (its tables were built by a
    kenning from before tokens), so caches work from the next query on."""
    conn.execute("INSERT OR IGNORE INTO materializer_generation "
                 f"SELECT name, {_TOKEN} FROM materializer_state")


def current(conn: apsw.Connection, names: Sequence[str]) -> dict[str, str] | None:
    """The current token of each named materializer; None if one has none (never
    built, or built by a kenning from before tokens)."""
    try:
        found = dict(conn.execute(
            "SELECT name, token FROM materializer_generation WHERE name IN "
            f"({', '.join('?' * len(names))})", list(names)).fetchall())
    except apsw.SQLError:  # a database from before the table
        return None
    return found if len(found) == len(names) else None
