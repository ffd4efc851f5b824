"""The `embeddings` materializer: one vector per searchable document.

It embeds the `body` the `fts` materializer indexes (commit messages, session
items, code definitions and chunks), computed from the event by the same
function, so the two stay in step without depending on each other's tables
(the `minilm-brief` model keeps a code symbol's name, signature and doc
comment only). A chunk of code between definitions is embedded with its
file's path first (its code alone often names nothing: imports, a call).
Vectors come from the user-wide cache when the text was ever embedded by the
same model before (any database, any clone, any `--until`); only the rest
reaches the model.

`add()` only collects the texts; `finish()` embeds all of them in one
pass, so the progress bar knows the run's whole total, and returns the run's
figures (texts embedded, from the cache, seconds) for the engine's result.
Incremental and order-insensitive: a row depends on its event alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import apsw

from kenning.embed.models import DEFAULT_MODEL
from kenning.materialize.base import StoredEvent
from kenning.materialize.fts import CODE_DOCUMENTS, SESSION_ITEMS, document
from kenning.params import Params, param
from kenning.progress import Progress

if TYPE_CHECKING:
    from kenning.embed.models import EmbeddingModel

_DDL = """
CREATE TABLE embeddings(
  event_id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  vector BLOB NOT NULL        -- float32 little-endian, unit length
) WITHOUT ROWID;
-- the texts without their vectors: which re-ranking vectors are missing (embed/fill.py)
-- is a scan of this index, not of 1.5 KB rows
CREATE INDEX embeddings_text_hash ON embeddings(text_hash);
"""


_BRIEF_LINES = 8  # of a chunk, for the brief model (which keeps a definition's head only)


def embedding_text(event: StoredEvent, brief_code: bool) -> str | None:
    """What is embedded for an event: its search document's body, or None."""
    doc = document(event)
    if doc is None:
        return None
    text = doc.body
    if event.event_type == "code.chunk":  # code between definitions: its file says what it is
        head = doc.body if not brief_code else "\n".join(doc.body.split("\n")[:_BRIEF_LINES])
        text = f"{doc.title}\n{head}"
    elif brief_code and doc.kind == "code":
        d = event.data
        parts = [doc.title, d.get("signature"), d.get("docstring")]
        text = "\n".join(str(p).strip() for p in parts if p and str(p).strip())
    return text if text.strip() else None


def _known_model(name: str) -> str | None:
    from kenning.embed.models import MODELS

    return None if name in MODELS else f"unknown model; choose from {', '.join(MODELS)}"


@dataclass(frozen=True)
class EmbeddingsParams(Params):
    model: str = param(DEFAULT_MODEL, "static-rerank (static vectors distilled from MiniLM "
                       "for every document, made in seconds; MiniLM re-scores each question's "
                       "best candidates, with their MiniLM vectors made in the background "
                       "after a scrape), minilm (all-MiniLM-L6-v2 for every document during "
                       "the scrape: minutes the first time), minilm-128, minilm-64, "
                       "minilm-brief (code: name, signature, doc comment), static (the "
                       "static vectors alone, no re-ranking)", check=_known_model)


def _model(params: EmbeddingsParams) -> EmbeddingModel:
    from kenning.embed.models import embedding_model

    return embedding_model(params.model)


class EmbeddingsMaterializer:
    name = "embeddings"
    # 2: constants and code chunks (with their path) are documents too; 3: the index on
    # text_hash (with the default model's change, one rebuild for both)
    version = 3
    params_type = EmbeddingsParams
    incremental = True
    index_after_rebuild = False
    consumes = ("git.commit", *SESSION_ITEMS, *CODE_DOCUMENTS)

    def __init__(self) -> None:
        self._pending: dict[str, str] = {}  # event_id -> text to embed, until finish()

    def tables(self) -> tuple[str, ...]:
        return ("embeddings",)

    def create(self, conn: apsw.Connection, params: EmbeddingsParams) -> None:
        conn.execute(_DDL)

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent],
            params: EmbeddingsParams) -> None:
        brief_code = _model(params).brief_code
        for event in events:
            text = embedding_text(event, brief_code)
            if text is not None:
                self._pending[event.event_id] = text

    def finish(self, conn: apsw.Connection, params: EmbeddingsParams,
               progress: Progress | None = None) -> dict[str, Any]:
        """Embed every document added since the last finish; the run's figures."""
        from kenning.embed.cache import VectorCache
        from kenning.embed.encode import embed_texts

        model = _model(params)
        ids = sorted(self._pending)
        texts = [self._pending[event_id] for event_id in ids]
        self._pending.clear()
        if not texts:
            return {"model": model.name, "embedded": 0, "cached": 0, "seconds": 0.0}
        if model.static and progress is not None:
            from kenning.embed.static import static_table_path

            if not static_table_path().is_file():
                progress.note("building the static model from MiniLM's weights into the user "
                              "cache: once per machine, about a minute "
                              "(`python -m kenning.embed.build` does it ahead)")
        cache = VectorCache()
        try:
            vectors, hashes, stats = embed_texts(
                texts, cache=cache, model_id=model.vectors_id,
                encoder_factory=model.bulk_encoder, progress=progress)
        finally:
            cache.close()
        conn.executemany(
            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
            [(eid, model.model_id, h, vectors[i].astype("<f4").tobytes())
             for i, (eid, h) in enumerate(zip(ids, hashes, strict=True))])
        return {"model": model.name, **stats.as_dict()}

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: EmbeddingsParams) -> bool:
        conn.executemany("DELETE FROM embeddings WHERE event_id = ?",
                         [(e.event_id,) for e in events])
        return True
