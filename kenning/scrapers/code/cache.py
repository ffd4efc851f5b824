"""The parse cache: facts by (blob id, language, extractor version), outside the database.

It lives in the user's cache directory (`platformdirs.user_cache_dir("kenning")`,
so XDG_CACHE_HOME moves it), so a `--full` rebuild or a `--until` scrape into
another database never parses the same blob twice. Values are zlib-compressed
facts (extract's encoding; the workers compress them). A cache that cannot be
opened or written is simply not used.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path

import apsw
import platformdirs

from kenning.scrapers.code.extract import EXTRACTOR_VERSION, FACTS_FORMAT

# entries of another extractor or another encoding of its facts never match
VERSION = EXTRACTOR_VERSION * 100 + FACTS_FORMAT

Key = tuple[str, str]  # (blob id, language)

_SCHEMA = """CREATE TABLE IF NOT EXISTS parses(
  blob TEXT NOT NULL, language TEXT NOT NULL, version INTEGER NOT NULL,
  partial INTEGER NOT NULL, facts BLOB NOT NULL,
  PRIMARY KEY (blob, language, version)) WITHOUT ROWID"""


def cache_path() -> Path:
    return Path(platformdirs.user_cache_dir("kenning")) / "code-parses.sqlite"


class ParseCache:
    def __init__(self, path: Path | None = None) -> None:
        self.hits = 0
        self.misses = 0
        self._conn: apsw.Connection | None = None
        try:
            path = path or cache_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = apsw.Connection(str(path))
            conn.set_busy_timeout(5000)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            self._conn = conn
        except (OSError, apsw.Error):
            self._conn = None

    def get_many(self, keys: Iterable[Key]) -> dict[Key, tuple[bytes, bool]]:
        """Cached (facts JSON, partial) for each (blob, language) found."""
        found: dict[Key, tuple[bytes, bool]] = {}
        if self._conn is None:
            return found
        try:
            for blob, language in keys:
                row = self._conn.execute(
                    "SELECT facts, partial FROM parses WHERE blob=? AND language=? AND version=?",
                    (blob, language, VERSION)).fetchone()
                if row is not None:
                    found[(blob, language)] = (zlib.decompress(row[0]), bool(row[1]))
        except (apsw.Error, zlib.error):
            return {}
        return found

    @property
    def enabled(self) -> bool:
        return self._conn is not None

    def put_many(self, entries: Iterable[tuple[str, str, bytes, bool]]) -> None:
        """(blob, language, compressed facts (`compress`), partial) rows."""
        if self._conn is None:
            return
        rows = [(blob, language, VERSION, int(partial), packed)
                for blob, language, packed, partial in entries]
        try:
            with self._conn:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO parses VALUES (?, ?, ?, ?, ?)", rows)
        except apsw.Error:
            pass

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def compress(facts: bytes) -> bytes:
    return zlib.compress(facts, 1)
