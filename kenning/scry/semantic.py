"""The semantic arm: exact cosine similarity over the stored float32 vectors.

The vectors of a database are read once per process into one matrix (unit
rows, so a dot product is the cosine) and kept while the database does not
change (`PRAGMA data_version`). Filters select the candidate rows first; the
top-k cut happens over those only.

Rows are in `event_id` order, and equal scores keep that order: `event_id` is
the content hash of the event, so a tie comes out the same in an incrementally
built database and a rebuilt one (`doc_id` is a local handle that differs).
"""

from __future__ import annotations

from dataclasses import dataclass

import apsw
import numpy as np

from kenning.embed.model import DIMENSIONS
from kenning.scry.filters import Filters, where


@dataclass
class VectorMatrix:
    doc_ids: np.ndarray  # int64, one per row; rows in event_id order (the tie-break)
    vectors: np.ndarray  # float32 (n, DIMENSIONS)
    version: tuple[int, int]


def load_matrix(conn: apsw.Connection) -> VectorMatrix:
    rows = conn.execute(
        "SELECT d.doc_id, e.vector FROM embeddings e JOIN documents d USING (event_id) "
        "ORDER BY e.event_id").fetchall()
    doc_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    blob = b"".join(r[1] for r in rows)  # type: ignore[misc]
    vectors = np.frombuffer(blob, dtype="<f4").reshape(len(rows), DIMENSIONS)
    return VectorMatrix(doc_ids, vectors, _version(conn))


def _version(conn: apsw.Connection) -> tuple[int, int]:
    row = conn.execute("PRAGMA data_version").fetchone()
    return id(conn), int(row[0]) if row else 0


class SemanticIndex:
    """The per-process matrix of one connection, reloaded when the database changed."""

    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn
        self._matrix: VectorMatrix | None = None

    def matrix(self) -> VectorMatrix:
        if self._matrix is None or self._matrix.version != _version(self.conn):
            self._matrix = load_matrix(self.conn)
        return self._matrix

    def search(self, query: np.ndarray, filters: Filters,
               limit: int) -> list[tuple[int, float]]:
        """(doc_id, cosine) best first, among the documents the filters allow."""
        m = self.matrix()
        vectors, doc_ids = m.vectors, m.doc_ids
        if not filters.is_empty():
            condition, params = where(self.conn, filters)
            allowed = np.fromiter(
                (r[0] for r in self.conn.execute(
                    f"SELECT d.doc_id FROM documents d WHERE {condition}", params)),
                dtype=np.int64)
            keep = np.isin(doc_ids, allowed)
            vectors, doc_ids = vectors[keep], doc_ids[keep]
        if len(doc_ids) == 0 or limit <= 0:
            return []
        scores = vectors @ query.astype(np.float32)
        k = min(limit, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        # equal scores keep row (event_id) order, the same in every build of the log
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(doc_ids[i]), float(scores[i])) for i in top]
