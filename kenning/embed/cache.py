"""The content-addressed vector cache, shared by every database of the user.

Keyed by (model id, SHA-256 of the exact text embedded), stored in an SQLite
file under the user cache directory (`platformdirs`, so XDG_CACHE_HOME is
honoured). A rebuild, `scrape --full`, `--until` or a second clone of the same
repository finds its vectors here and embeds nothing again. Each `put` commits,
so an interrupted embedding run keeps every finished batch.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import apsw
import numpy as np

from kenning.embed.model import DIMENSIONS
from kenning.eventlog.database import PAGE_SIZE

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors(
    model TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY(model, text_hash)) WITHOUT ROWID;
"""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def user_cache_dir() -> Path:
    """kenning's folder in the user cache (XDG_CACHE_HOME on Linux): vectors, built models."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("kenning"))


MODELS_ENV = "KENNING_MODELS_DIR"


def models_dir(cache_dir: Path | None = None) -> Path:
    """Where the model files built from the weights live (the ONNX graph, the static
    table): $KENNING_MODELS_DIR when set (a folder built once, e.g. at install time by
    `python -m kenning.embed.build`, or shared by test sessions), else the user cache."""
    if cache_dir is not None:
        return cache_dir / "models"
    chosen = os.environ.get(MODELS_ENV)
    return Path(chosen) if chosen else user_cache_dir() / "models"


def default_cache_path() -> Path:
    return user_cache_dir() / "vectors.sqlite"


class VectorCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = apsw.Connection(str(self.path))
        self.conn.set_busy_timeout(30_000)
        self.conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file's: one vector a row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(_SCHEMA)

    def get_many(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for digest, blob in self._select("text_hash, vector", model, hashes):
            vector = np.frombuffer(blob, dtype="<f4")
            if vector.shape == (DIMENSIONS,):
                found[digest] = vector
        return found

    def known(self, model: str, hashes: Iterable[str]) -> set[str]:
        """Which of these texts have a vector of `model` here (the vectors left unread:
        a third of the time of get_many on 100,000 texts)."""
        return {str(r[0]) for r in self._select("text_hash", model, hashes)}

    def _select(self, columns: str, model: str, hashes: Iterable[str]) -> Iterator[Any]:
        """`columns` of this model's rows for these text hashes, 500 hashes a statement."""
        wanted = list(dict.fromkeys(hashes))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self.conn.execute(
                f"SELECT {columns} FROM vectors WHERE model = ? AND text_hash IN ({marks})",
                (model, *chunk))

    def put_many(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model, digest, np.asarray(v, dtype="<f4").tobytes()) for digest, v in items],
            )

    def count(self, model: str | None = None) -> int:
        if model is None:
            row = self.conn.execute("SELECT count(*) FROM vectors").fetchone()
        else:
            row = self.conn.execute("SELECT count(*) FROM vectors WHERE model = ?",
                                    (model,)).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()
