"""The vector matrix a query process searches: read from SQLite, or mapped from its file.

Reading 100,000 vectors row by row out of SQLite takes 0.2-0.6 s, most of a hybrid
query from the shell. So the matrix is also kept as one file beside the database
(`<database>-vectors`), which a process maps into memory in milliseconds; its pages
come from the operating system's cache, shared by every process that reads it.

The file is a cache, never the truth. Its header names the generation tokens of the
two materializers whose tables it was read from (`fts` owns `documents`,
`embeddings` the vectors; materialize/generation.py), and a process maps it only
when those are the database's tokens in the same read transaction; otherwise it
reads SQLite and writes the file anew. So a file can be stale, never wrong. It is
written to a temporary file and renamed: a reader sees a whole file or none.
Layout: a 4,096-byte JSON header padded with spaces, then the vectors (float32,
rows x DIMENSIONS), the doc_ids (int64), the kinds (int8).
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import tempfile
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path

import apsw
import numpy as np

from kenning.embed.model import DIMENSIONS
from kenning.materialize import generation
from kenning.scry.filters import KINDS

FILE_SUFFIX = "-vectors"
_FORMAT = 1
_HEADER = 4096
SOURCES = ("embeddings", "fts")  # the materializers whose tables the matrix is read from


@dataclass
class VectorMatrix:
    doc_ids: np.ndarray  # int64, one per row; rows in event_id order (the tie-break)
    vectors: np.ndarray  # float32 (n, DIMENSIONS), read only
    version: tuple[int, int]
    kinds: np.ndarray  # int8, each row's document kind as its index in KINDS
    model_id: str  # the model that made the vectors (`embeddings.model`)
    _rows: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False)

    def rows_of(self, kinds: tuple[str, ...]) -> np.ndarray:
        """The rows of documents of these kinds, in row order; found once per matrix (a
        scan of its kinds costs 2-3 ms a window on 100k rows)."""
        if kinds not in self._rows:
            self._rows[kinds] = kind_rows(self.kinds, kinds)
        return self._rows[kinds]


def kind_rows(codes: np.ndarray, kinds: tuple[str, ...]) -> np.ndarray:
    """The positions in `codes` (each row's kind as its index in KINDS) of these kinds."""
    return np.flatnonzero(np.isin(codes, [KINDS.index(k) for k in kinds if k in KINDS]))


def load_matrix(conn: apsw.Connection) -> VectorMatrix:
    """The matrix of the database as this connection sees it now."""
    with conn:  # one read transaction: the tokens, the count, the rows and the version agree
        version = version_of(conn)
        tokens = generation.current(conn, SOURCES)
        path = matrix_file(conn)
        if tokens is not None and path is not None:
            mapped = _map(path, tokens, version)
            if mapped is not None:
                return mapped
        matrix = _read_rows(conn, version)
    if tokens is not None and path is not None and len(matrix.doc_ids):
        with contextlib.suppress(OSError):  # a read-only folder: the next process reads SQLite too
            _write(path, tokens, matrix)
    return matrix


def has_vectors(conn: apsw.Connection) -> bool:
    try:
        return conn.execute("SELECT 1 FROM embeddings LIMIT 1").fetchone() is not None
    except apsw.SQLError:  # no embeddings table: never materialized, or disabled
        return False


def refresh_file(db_path: Path) -> None:
    """Bring the matrix file up to the database as it is now (after a run that changed
    the vectors or the documents), or remove it when there are no vectors."""
    from kenning.eventlog import database

    conn = database.connect(db_path, write=False)
    try:
        path = matrix_file(conn)
        if has_vectors(conn):
            load_matrix(conn)
        elif path is not None:
            path.unlink(missing_ok=True)
    finally:
        conn.close()


def matrix_file(conn: apsw.Connection) -> Path | None:
    """Where the matrix file of this connection's database lives (None in memory)."""
    name = conn.filename
    return Path(name + FILE_SUFFIX) if name else None


def version_of(conn: apsw.Connection) -> tuple[int, int]:
    """Which matrix a connection needs: its identity and the database's data_version."""
    row = conn.execute("PRAGMA data_version").fetchone()
    return id(conn), int(row[0]) if row else 0


def _read_rows(conn: apsw.Connection, version: tuple[int, int]) -> VectorMatrix:
    count = conn.execute("SELECT count(*) FROM embeddings").fetchone()
    n = int(count[0]) if count else 0
    # each blob copied straight into its row: no list of rows, no joined copy of them all
    doc_ids = np.empty(n, dtype=np.int64)
    vectors = np.empty((n, DIMENSIONS), dtype="<f4")
    kinds = np.empty(n, dtype=np.int8)
    flat, width = memoryview(vectors).cast("B"), DIMENSIONS * 4
    codes = {kind: code for code, kind in enumerate(KINDS)}
    rows = 0
    for doc_id, vector, kind in conn.execute(
            "SELECT d.doc_id, e.vector, d.kind FROM embeddings e JOIN documents d "
            "USING (event_id) ORDER BY e.event_id"):
        flat[rows * width:(rows + 1) * width] = vector
        doc_ids[rows], kinds[rows] = doc_id, codes.get(kind, -1)
        rows += 1
    model = conn.execute("SELECT model FROM embeddings LIMIT 1").fetchone()
    # (a vector whose document is gone leaves its row unused)
    vectors = vectors[:rows]
    vectors.flags.writeable = False  # shared by every query, as a mapped file is
    return VectorMatrix(doc_ids[:rows], vectors, version, kinds[:rows],
                        str(model[0]) if model else "")


def _header(tokens: dict[str, str], model_id: str, rows: int) -> dict[str, object]:
    return {"format": _FORMAT, "tokens": dict(sorted(tokens.items())), "model": model_id,
            "rows": rows, "dimensions": DIMENSIONS, "kinds": list(KINDS)}


def _size(rows: int) -> int:
    return _HEADER + rows * (DIMENSIONS * 4 + 8 + 1)


def _write(path: Path, tokens: dict[str, str], matrix: VectorMatrix) -> None:
    rows = len(matrix.doc_ids)
    header = json.dumps(_header(tokens, matrix.model_id, rows)).encode()
    if len(header) > _HEADER:
        return
    # a writer killed mid-write leaves its part file; a live one whose part file goes
    # fails its rename, which load_matrix shrugs off (its caller has the matrix anyway)
    for leftover in path.parent.glob(glob_escape(path.name) + "*.part"):
        leftover.unlink(missing_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        # readable by whoever may read the database (mkstemp makes it the owner's only)
        database_file = Path(str(path).removesuffix(FILE_SUFFIX))
        os.fchmod(handle, database_file.stat().st_mode & 0o666)
        with os.fdopen(handle, "wb") as out:
            out.write(header.ljust(_HEADER, b" "))
            out.write(np.ascontiguousarray(matrix.vectors, dtype="<f4").tobytes())
            out.write(matrix.doc_ids.astype("<i8").tobytes())
            out.write(matrix.kinds.astype("i1").tobytes())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _map(path: Path, tokens: dict[str, str], version: tuple[int, int]) -> VectorMatrix | None:
    """The file's matrix if it was read under these tokens; None if absent or stale."""
    try:
        with open(path, "rb") as handle:
            header = json.loads(handle.read(_HEADER))
            rows = int(header["rows"])
            if (header != _header(tokens, header["model"], rows)
                    or os.fstat(handle.fileno()).st_size != _size(rows)):
                return None
            # the mapping outlives the file object; a later rename cannot change it
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    width = rows * DIMENSIONS
    vectors = np.frombuffer(data, dtype="<f4", count=width, offset=_HEADER)
    doc_ids = np.frombuffer(data, dtype="<i8", count=rows, offset=_HEADER + width * 4)
    kinds = np.frombuffer(data, dtype="i1", count=rows, offset=_HEADER + width * 4 + rows * 8)
    return VectorMatrix(doc_ids, vectors.reshape(rows, DIMENSIONS), version, kinds,
                        str(header["model"]))
