"""`kenning scry QUERY`: lexical, semantic and hybrid search over `documents`.

A `Searcher` holds one read connection and, once the semantic arm is used,
the vector matrix and the query encoder, so repeated queries in one process
(`kenning eval`, the benchmarks) pay the loading once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import apsw

from kenning.errors import KenningError
from kenning.scry import lexical
from kenning.scry.filters import Filters, check_limit
from kenning.scry.fusion import DEFAULT_RRF_K, rrf

if TYPE_CHECKING:  # numpy loads only when the semantic arm runs
    from kenning.scry.semantic import SemanticIndex

MODES = ("hybrid", "lexical", "semantic")
MAX_QUERY_CHARS = 2000  # far beyond the model's 256 tokens; the rest only costs time
# How many candidates each arm hands to fusion (Elasticsearch's rank_window_size, whose
# default is also the page size). Deeper windows let documents that are mediocre in
# both arms outrank one arm's clear winner, and sometimes rescue a relevant one: with
# window 100 instead of 10, 3 queries of bench/queries/kenning.json rise and 3 fall
# (MRR 0.701 -> 0.714), 6 rise and 3 fall on bench/queries/kenning-heldout.json
# (0.683 -> 0.693) -- single queries either way, so the page size stays. Filters
# apply before this cut.
ARM_WINDOW = 10
NO_EMBEDDINGS = ("this database has no embeddings yet; run `kenning scrape` (without "
                 "--no-embed) or `kenning materialize embeddings`")


@dataclass
class Result:
    doc_id: int
    event_id: str
    kind: str
    event_type: str
    timestamp: str
    source: str
    author: str | None
    paths: list[str]
    title: str
    snippet: str
    score: float
    arms: dict[str, tuple[int, float]] = field(default_factory=dict)  # arm: (rank, score)

    def as_json(self, explain: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "event_type": self.event_type, "time": self.timestamp,
            "source": self.source, "author": self.author, "paths": self.paths,
            "title": self.title, "snippet": self.snippet, "score": round(self.score, 6),
            "event_id": self.event_id,
        }
        if explain:
            out["explain"] = {arm: {"rank": r, "score": round(s, 6)}
                              for arm, (r, s) in sorted(self.arms.items())}
        return out


@dataclass
class Answer:
    mode: str  # the mode that actually ran
    results: list[Result]
    notes: list[str] = field(default_factory=list)


class Searcher:
    def __init__(self, conn: apsw.Connection, rrf_k: float = DEFAULT_RRF_K) -> None:
        self.conn = conn
        self.rrf_k = rrf_k
        self._semantic: SemanticIndex | None = None
        _require_documents(conn)

    def search(self, query: str, *, mode: str = "hybrid", filters: Filters | None = None,
               limit: int = 10) -> Answer:
        if mode not in MODES:
            raise KenningError(f"unknown --mode {mode!r}; choose {', '.join(MODES)}")
        check_limit(limit)
        filters = filters or Filters()
        text = " ".join(query.split())
        if not text:
            raise KenningError("the query is empty; say what to look for, e.g. "
                               "`kenning scry \"why did we drop the cache\"`")
        notes: list[str] = []
        if len(text) > MAX_QUERY_CHARS:
            text = text[:MAX_QUERY_CHARS]
            notes.append(f"the query was cut to its first {MAX_QUERY_CHARS} characters")
        if mode != "lexical" and not _has_embeddings(self.conn):
            if mode == "semantic":
                raise KenningError(f"semantic search needs embeddings: {NO_EMBEDDINGS}")
            notes.append(f"lexical results only: {NO_EMBEDDINGS}")
            mode = "lexical"
        depth = max(ARM_WINDOW, limit) if mode == "hybrid" else limit
        arms: dict[str, list[tuple[int, float]]] = {}
        if mode in ("lexical", "hybrid"):
            arms["lexical"] = lexical.search(self.conn, text, filters, depth)
        if mode in ("semantic", "hybrid"):
            arms["semantic"] = self.semantic_index().search(self.encode(text), filters, depth)
        if mode == "hybrid":
            ranked = rrf(arms, self.rrf_k, key=self._event_ids(arms).__getitem__)[:limit]
        else:
            ((arm, hits),) = arms.items()
            ranked = [(d, s, {arm: (i, s)}) for i, (d, s) in enumerate(hits[:limit], 1)]
        return Answer(mode, self._results(ranked, text), notes)

    def semantic_index(self) -> SemanticIndex:
        if self._semantic is None:
            from kenning.scry.semantic import SemanticIndex

            self._semantic = SemanticIndex(self.conn)
        return self._semantic

    def encode(self, text: str) -> Any:
        """The query's vector, by the model that made the stored vectors."""
        from kenning.embed.encode import query_encoder  # numpy + tokenizers, never torch

        row = self.conn.execute("SELECT model FROM embeddings LIMIT 1").fetchone()
        return query_encoder(str(row[0])).encode([text])[0]

    def _event_ids(self, arms: dict[str, list[tuple[int, float]]]) -> dict[int, str]:
        """The event id of every candidate: fusion's tie-break, stable across builds."""
        ids = sorted({d for hits in arms.values() for d, _ in hits})
        if not ids:
            return {}
        return {int(d): str(e) for d, e in self.conn.execute(
            f"SELECT doc_id, event_id FROM documents WHERE doc_id IN ({','.join('?' * len(ids))})",
            ids)}

    def _results(self, ranked: list[tuple[int, float, dict[str, tuple[int, float]]]],
                 text: str) -> list[Result]:
        if not ranked:
            return []
        ids = [d for d, _, _ in ranked]
        rows = {r[0]: r for r in self.conn.execute(
            "SELECT doc_id, event_id, kind, event_type, timestamp, source, author, paths, title,"
            f" body FROM documents WHERE doc_id IN ({','.join('?' * len(ids))})", ids)}
        terms = lexical.query_terms(text)
        out = []
        for doc_id, score, arms in ranked:
            _, event_id, kind, etype, ts, source, author, paths, title, body = rows[doc_id]
            out.append(Result(doc_id, event_id, kind, etype, ts, source, author,
                              json.loads(paths), title, snippet(body, terms), score, arms))
        return out


def _has_embeddings(conn: apsw.Connection) -> bool:
    try:
        return conn.execute("SELECT 1 FROM embeddings LIMIT 1").fetchone() is not None
    except apsw.SQLError:  # no embeddings table: never materialized, or disabled
        return False


def _require_documents(conn: apsw.Connection) -> None:
    found = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE name IN ('documents', 'documents_fts')")}
    if found != {"documents", "documents_fts"}:
        raise KenningError("this database has no search index yet; run `kenning scrape` "
                           "(or `kenning materialize fts`)")


def snippet(body: str, terms: list[str], width: int = 160) -> str:
    """About `width` characters of `body` around the first query word it contains, cut
    at word boundaries."""
    flat = " ".join(body.split())
    if len(flat) <= width:
        return flat
    low = flat.lower()
    hits = [m.start() for t in terms
            if (m := re.search(r"\b" + re.escape(t), low)) is not None]
    start = max(0, min(hits) - width // 4) if hits else 0
    end = min(len(flat), start + width)
    start = max(0, end - width)
    if start > 0:  # begin at the next word
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < end else start
    if end < len(flat):  # end after the last whole word
        space = flat.rfind(" ", start, end + 1)
        end = space if space > start else end
    return ("…" if start else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")
