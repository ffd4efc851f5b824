"""The `embeddings` materializer: one MiniLM vector per searchable document.

It embeds exactly the `body` the `fts` materializer indexes (commit messages,
session items, code functions and types), computed from the event by the same
function, so the two stay in step without depending on each other's tables.
Vectors come from the user-wide cache when the text was ever embedded before
(any database, any clone, any `--until`); only the rest reaches the model.
Incremental and order-insensitive: a row depends on its event alone.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import apsw

from kenning.materialize.base import Params, StoredEvent
from kenning.materialize.fts import CODE_SYMBOLS, SESSION_ITEMS, document

if TYPE_CHECKING:  # numpy and the encoders load only when something is embedded
    from kenning.embed.encode import Encoder
    from kenning.progress import Progress

_DDL = """
CREATE TABLE embeddings(
  event_id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  vector BLOB NOT NULL        -- float32 little-endian, unit length
) WITHOUT ROWID;
"""

_bulk_encoder: Encoder | None = None


def bulk_encoder() -> Encoder:
    """sentence-transformers, loaded once per process and only when a text is missing."""
    global _bulk_encoder
    if _bulk_encoder is None:
        from kenning.embed.encode import SentenceTransformerEncoder

        _bulk_encoder = SentenceTransformerEncoder()
    return _bulk_encoder


def _progress() -> Progress | None:
    if not sys.stderr.isatty():
        return None
    from kenning.cli.progress import BarProgress

    return BarProgress()


class EmbeddingsMaterializer:
    name = "embeddings"
    version = 1
    params_type = Params  # none
    incremental = True
    index_after_rebuild = False
    consumes = ("git.commit", *SESSION_ITEMS, *CODE_SYMBOLS)

    def __init__(self) -> None:
        self.stats: dict[str, Any] = {"embedded": 0, "cached": 0, "seconds": 0.0}

    def tables(self) -> tuple[str, ...]:
        return ("embeddings",)

    def create(self, conn: apsw.Connection, params: Params) -> None:
        conn.execute(_DDL)

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent], params: Params) -> None:
        ids: list[str] = []
        texts: list[str] = []
        for event in events:
            doc = document(event)
            if doc is not None and doc.body.strip():
                ids.append(event.event_id)
                texts.append(doc.body)
        if texts:
            self._embed(conn, ids, texts)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('embeddings:last_run', ?)",
                     (json.dumps(self.stats, sort_keys=True),))

    def _embed(self, conn: apsw.Connection, ids: list[str], texts: list[str]) -> None:
        from kenning.embed.cache import VectorCache
        from kenning.embed.encode import embed_texts
        from kenning.embed.model import MODEL_ID

        cache = VectorCache()
        try:
            vectors, hashes, stats = embed_texts(texts, cache=cache, encoder_factory=bulk_encoder,
                                                 progress=_progress())
        finally:
            cache.close()
        conn.executemany(
            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
            [(eid, MODEL_ID, h, vectors[i].astype("<f4").tobytes())
             for i, (eid, h) in enumerate(zip(ids, hashes, strict=True))])
        self.stats["embedded"] += stats.embedded
        self.stats["cached"] += stats.cached
        self.stats["seconds"] = round(self.stats["seconds"] + stats.seconds, 3)

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: Params) -> bool:
        conn.executemany("DELETE FROM embeddings WHERE event_id = ?",
                         [(e.event_id,) for e in events])
        return True


def last_run_note(db_path: Path) -> str | None:
    """"embeddings: N texts embedded, M from the cache" for the last run, if any."""
    from kenning.eventlog import database

    conn = database.connect(db_path, write=False)
    try:
        raw = database.get_meta(conn, "embeddings:last_run")
    finally:
        conn.close()
    if not raw:
        return None
    stats = json.loads(raw)
    return (f"embeddings: {stats['embedded']} texts embedded, {stats['cached']} from the cache "
            f"in {stats['seconds']:.1f}s")
