"""Re-scoring a first pass's candidates with a stronger model's vectors (`static-rerank`).

The static first pass stores cheap vectors for every document; at query time the
re-ranker (MiniLM) orders the best candidates of each window. A candidate's MiniLM
vector is looked up in the user-wide vector cache by (model, text hash), the key a
bulk `minilm` run uses; a missing one is computed from the very text a bulk run
embeds (the event's document body, `embedding_text`) by the bulk encoder and cached,
so each text is paid once per machine. The bulk encoder never pads a text beside
others (a batch holds texts of one token count), so a vector's bytes depend on the
text alone, not on which query asked first: the answers are the same with a cold
cache or a warm one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import apsw
import numpy as np

from kenning.embed.model import DIMENSIONS

if TYPE_CHECKING:
    from kenning.embed.models import EmbeddingModel

# The first pass's cosine kept in the score: the two models disagree in useful ways
# (measured: 0.5 beats 0 on semble's benchmark and on flask's held-out questions).
FIRST_PASS_WEIGHT = 0.5


def rerank(conn: apsw.Connection, model_id: str, query: np.ndarray,
           found: dict[str, list[tuple[int, float]]],
           limits: dict[str, int]) -> tuple[dict[str, list[tuple[int, float]]], int]:
    """Each window's candidates, (doc_id, re-ranker cosine + FIRST_PASS_WEIGHT x first-pass
    cosine) best first, at most its limit, and how many re-ranker vectors were made for
    them (not in the cache). Equal scores are ordered by event_id (content, the same in
    every build)."""
    from kenning.embed.models import embedding_model, model_for_vectors

    second = model_for_vectors(model_id).rerank
    assert second is not None, f"{model_id} is not a re-ranked model"
    doc_ids = sorted({d for hits in found.values() for d, _ in hits})
    if not doc_ids:
        return found, 0
    marks = ",".join("?" * len(doc_ids))
    rows = {int(r[0]): (str(r[1]), str(r[2])) for r in conn.execute(
        "SELECT d.doc_id, e.event_id, e.text_hash FROM embeddings e JOIN documents d "
        f"USING (event_id) WHERE d.doc_id IN ({marks})", doc_ids)}
    vectors, made = candidate_vectors(conn, embedding_model(second), rows)
    out: dict[str, list[tuple[int, float]]] = {}
    for name, hits in found.items():
        scored = [(d, float(vectors[d] @ query) + FIRST_PASS_WEIGHT * first, rows[d][0])
                  for d, first in hits]
        scored.sort(key=lambda item: (-item[1], item[2]))
        out[name] = [(d, score) for d, score, _ in scored[:limits[name]]]
    return out, made


def candidate_vectors(conn: apsw.Connection, model: EmbeddingModel,
                      rows: dict[int, tuple[str, str]]) -> tuple[dict[int, np.ndarray], int]:
    """doc_id -> the model's vector of the document's text, from the cache or computed
    (and cached), and how many were computed. `rows`: doc_id -> (event_id, hash of the
    text the first pass embedded)."""
    from kenning.embed.cache import VectorCache

    try:
        cache = VectorCache()
    except (apsw.Error, OSError):  # no writable user cache: compute, keep nothing
        cache = VectorCache(Path(":memory:"))
    try:
        known = cache.get_many(model.vectors_id, [h for _, h in rows.values()])
        missing = sorted({event_id for event_id, h in rows.values() if h not in known})
        texts = texts_of(conn, missing, model)
        if texts:  # (events gone from the log have no text: those candidates score 0)
            ordered = sorted(texts.items())
            vectors = model.bulk_encoder().encode([t for _, t in ordered])
            computed = [(h, vectors[i]) for i, (h, _) in enumerate(ordered)]
            with contextlib.suppress(apsw.Error):  # a read-only or full cache: same answer
                cache.put_many(model.vectors_id, computed)
            known.update(computed)
    finally:
        cache.close()
    # a first-pass hash the re-ranker's text function no longer makes has no vector: 0
    zero = np.zeros(DIMENSIONS, dtype=np.float32)
    return {doc_id: known.get(h, zero) for doc_id, (_, h) in rows.items()}, len(texts)


def texts_of(conn: apsw.Connection, event_ids: Sequence[str],
             model: EmbeddingModel) -> dict[str, str]:
    """hash -> the text `model` embeds for each of these events (a bulk run's text)."""
    from kenning.embed.cache import text_hash
    from kenning.eventlog.reader import read_events
    from kenning.materialize.embeddings import embedding_text

    texts: dict[str, str] = {}
    for event in read_events(conn, event_ids):
        text = embedding_text(event, model.brief_code)
        if text is not None:
            texts[text_hash(text)] = text
    return texts
