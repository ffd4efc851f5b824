"""The semantic arm: exact cosine similarity over the stored float32 vectors.

The vectors of a database are read once per process into one matrix (unit
rows, so a dot product is the cosine; scry/matrix.py maps it from a file when it
can) and kept while the database does not change (`PRAGMA data_version`).
Filters select the candidate rows first; the top-k cut happens over those only.

Rows are in `event_id` order, and equal scores keep that order: `event_id` is
the content hash of the event, so a tie comes out the same in an incrementally
built database and a rebuilt one (`doc_id` is a local handle that differs).

A re-ranked model (`static-rerank`) stores first-pass vectors; its query vector
is the first pass's and the re-ranker's end to end. The first pass picks each
window's best RERANK_TOP candidates, and the re-ranker's cosine (plus half the
first pass's) orders them (`kenning/embed/rerank.py`): the answer is a function of
the stored vectors and the texts alone, whatever the vector cache held before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import apsw
import numpy as np

from kenning.embed.blas import one_blas_thread
from kenning.embed.model import DIMENSIONS
from kenning.scry.filters import Filters, where
from kenning.scry.matrix import VectorMatrix, kind_rows, load_matrix, version_of


@dataclass(frozen=True)
class Selection:
    """The rows of a matrix that a query may return: all, or those its filters allow."""
    matrix: VectorMatrix
    keep: np.ndarray | None  # bool per row; None: every row


class SemanticIndex:
    """The per-process matrix of one connection, reloaded when the database changed.

    `score` touches numpy only, and `rerank` reads the connection it is given, so both
    may run on another thread beside a query on the index's own connection."""

    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn
        self._matrix: VectorMatrix | None = None
        self.made = 0  # re-ranking vectors the last search made itself (not in the cache)
        self.made_seconds = 0.0  # ... and the time its re-ranking took then

    def matrix(self) -> VectorMatrix:
        if self._matrix is None or self._matrix.version != version_of(self.conn):
            self._matrix = load_matrix(self.conn)
        return self._matrix

    def search(self, query: np.ndarray, filters: Filters,
               limit: int) -> list[tuple[int, float]]:
        """(doc_id, cosine) best first, among the documents the filters allow."""
        return self.search_kinds(query, filters, {"all": ((), limit)})["all"]

    def search_kinds(self, query: np.ndarray, filters: Filters,
                     windows: dict[str, tuple[tuple[str, ...], int]]
                     ) -> dict[str, list[tuple[int, float]]]:
        """One ranked list per window name: (doc_id, cosine) best first among the
        documents of the window's kinds (all kinds for ()) that the filters allow, at
        most the window's size. One product of the query with the matrix serves all."""
        selection = self.select(filters)
        return self.rerank(selection, query, score(selection, query, windows), windows)

    def select(self, filters: Filters) -> Selection:
        m = self.matrix()
        if filters.is_empty():
            return Selection(m, None)
        condition, params = where(self.conn, filters)
        allowed = np.fromiter(
            (r[0] for r in self.conn.execute(
                f"SELECT d.doc_id FROM documents d WHERE {condition}", params)),
            dtype=np.int64)
        return Selection(m, np.isin(m.doc_ids, allowed))

    def rerank(self, selection: Selection, query: np.ndarray,
               found: dict[str, list[tuple[int, float]]],
               windows: dict[str, tuple[tuple[str, ...], int]],
               conn: apsw.Connection | None = None) -> dict[str, list[tuple[int, float]]]:
        """A re-ranked model's windows re-scored (`score` kept RERANK_TOP of each); any
        other model's as they are. `conn`: another connection to this database to read
        the candidates' texts with (the index's own by default)."""
        self.made = 0
        if query.shape[0] != 2 * DIMENSIONS:
            return found
        from kenning.embed.rerank import rerank

        started = time.perf_counter()
        found, self.made = rerank(conn or self.conn, selection.matrix.model_id,
                                  query[DIMENSIONS:].astype(np.float32), found,
                                  {name: limit for name, (_, limit) in windows.items()})
        self.made_seconds = time.perf_counter() - started
        return found


def score(selection: Selection, query: np.ndarray,
          windows: dict[str, tuple[tuple[str, ...], int]]
          ) -> dict[str, list[tuple[int, float]]]:
    """Each window's best rows by cosine (RERANK_TOP of them for a re-ranked model, whose
    query is its first pass's vector and its re-ranker's end to end). numpy only: no
    database, so it may run beside a query on the connection."""
    m = selection.matrix
    vectors, doc_ids, kinds = m.vectors, m.doc_ids, m.kinds
    if selection.keep is not None:
        keep = selection.keep
        vectors, doc_ids, kinds = vectors[keep], doc_ids[keep], kinds[keep]
    out: dict[str, list[tuple[int, float]]] = {name: [] for name in windows}
    if len(doc_ids) == 0:
        return out
    query = query.astype(np.float32)
    paired = query.shape[0] == 2 * DIMENSIONS
    with one_blas_thread():
        scores = vectors @ (query[:DIMENSIONS] if paired else query)
    for name, (wanted, limit) in windows.items():
        if not wanted:
            rows = None
        elif selection.keep is None:  # the whole matrix: its rows of these kinds, kept
            rows = m.rows_of(wanted)
        else:
            rows = kind_rows(kinds, wanted)
        out[name] = _top(scores, doc_ids, rows, max(limit, RERANK_TOP) if paired else limit)
    return out


# First-pass candidates per window that the re-ranker scores. Measured (semble's 11
# parsed repositories, flask's held-out questions): 100 loses to MiniLM alone, 200 with
# the static cosine kept at half weight (rerank.py) beats it on both; each is a MiniLM
# vector to compute on a cold cache, once per text.
RERANK_TOP = 200


def _top(scores: np.ndarray, doc_ids: np.ndarray, rows: np.ndarray | None,
         limit: int) -> list[tuple[int, float]]:
    if rows is None:
        rows = np.arange(len(scores))
    if len(rows) == 0 or limit <= 0:
        return []
    sub = scores[rows]
    k = min(limit, len(sub))
    top = np.argpartition(-sub, k - 1)[:k]
    # equal scores keep row (event_id) order, the same in every build of the log
    top = top[np.lexsort((top, -sub[top]))]
    return [(int(doc_ids[rows[i]]), float(sub[i])) for i in top]
