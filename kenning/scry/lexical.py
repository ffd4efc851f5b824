"""The lexical arm: FTS5 BM25 over `documents_fts`, never the embedding model.

User text is never handed to FTS5 as query syntax: it is cut into words, each
word is quoted, identifiers are also split on case and underscores (as the
index splits them), and the words are OR-ed so BM25 ranks by how many and how
rare the matches are.
"""

from __future__ import annotations

import re
from typing import Any

import apsw

from kenning.materialize.tokens import query_terms
from kenning.scry.filters import Filters, where

TITLE_WEIGHT = 2.0
PATH_WEIGHT = 1.0
PASS_DEPTH = 4  # how deep the shared pass reads, in windows
# title (a symbol's name, a commit's subject) and path words weigh more than the body
_SCORE = f"-bm25(documents_fts, {TITLE_WEIGHT}, {PATH_WEIGHT}, 1.0)"


def fts_query(text: str, conn: apsw.Connection | None = None) -> str | None:
    terms = query_terms(text)
    if conn is not None:
        terms = _informative(conn, terms)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _informative(conn: apsw.Connection, terms: list[str]) -> list[str]:
    """Leave out terms found in more than half of the documents, and terms that the
    index's tokenizer reduces to the same stem as an earlier one ("routes", "route").

    FTS5 clamps the IDF of such a term to almost nothing, so it barely moves a
    BM25 score, yet matching it means scoring most of the index (50 ms of 60 on
    100k documents). When every term is that common, the rarest one is kept. The
    vocabulary holds what the tokenizer made of each word (porter stems), so each
    term is looked up as the tokenizer makes it."""
    stems = _stems(conn, terms)
    unique: dict[str, str] = {}
    for term in terms:
        unique.setdefault(stems[term], term)
    terms = list(unique.values())
    if len(terms) < 2:
        return terms
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.documents_vocab "
                 "USING fts5vocab(main, 'documents_fts', 'row')")
    (total,) = conn.execute("SELECT count(*) FROM documents").fetchone()
    df = {t: 0 for t in terms}
    for term in terms:
        row = conn.execute("SELECT doc FROM temp.documents_vocab WHERE term = ?",
                           (stems[term],)).fetchone()
        df[term] = row[0] if row else 0
    kept = [t for t in terms if 2 * df[t] <= total]
    return kept or [min(terms, key=lambda t: (df[t], t))]


_TOKENIZE = re.compile(r"tokenize\s*=\s*'([^']*)'", re.I)


def _stems(conn: apsw.Connection, terms: list[str]) -> dict[str, str]:
    """Each term as the index's tokenizer stores it (its first token)."""
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'documents_fts'").fetchone()
    found = _TOKENIZE.search(str(row[0])) if row else None
    spec = (found.group(1) if found else "unicode61").split()
    tokenizer = conn.fts5_tokenizer(spec[0], spec[1:])
    out = {}
    for term in terms:
        tokens = tokenizer(term.encode("utf-8"), apsw.FTS5_TOKENIZE_QUERY, None)
        out[term] = str(tokens[0][2]) if tokens else term
    return out


def search(conn: apsw.Connection, text: str, filters: Filters, limit: int,
           kinds: tuple[str, ...] = ()) -> list[tuple[int, float]]:
    """(doc_id, score) best first; score = -bm25, so higher is better. Equal scores
    are ordered by event_id (a content hash), never by doc_id, which is a local
    handle that an incremental build and a rebuild assign differently. `kinds`
    narrows to those document kinds (code, commit, session) before the cut."""
    match = fts_query(text, conn)
    if match is None:
        return []
    return ranked(conn, match, filters, limit, kinds)


def ranked(conn: apsw.Connection, match: str, filters: Filters, limit: int,
           kinds: tuple[str, ...] = ()) -> list[tuple[int, float]]:
    """`search` for an FTS5 expression already made by `fts_query`."""
    condition, params = where(conn, filters)
    if kinds:
        condition += f" AND d.kind IN ({','.join('?' * len(kinds))})"
        params = [*params, *kinds]
    sql = (f"SELECT d.doc_id, {_SCORE} AS score "
           f"FROM documents_fts JOIN documents d ON d.doc_id = documents_fts.rowid "
           f"WHERE documents_fts MATCH ? AND {condition} ORDER BY score DESC, d.event_id LIMIT ?")
    args: list[Any] = [match, *params, limit]
    return [(int(doc_id), float(score)) for doc_id, score in conn.execute(sql, args)]


def ranked_sides(conn: apsw.Connection, match: str, filters: Filters,
                 sides: dict[str, tuple[str, ...]], limit: int
                 ) -> dict[str, list[tuple[int, float]]]:
    """`ranked` for several groups of kinds at once (code; commits and sessions), each
    group's best `limit`. Unfiltered, one pass inside the index settles the groups it
    can; the rest share a pass joined with `documents`."""
    out = _settled_sides(conn, match, sides, limit) if filters.is_empty() else {}
    rest = {side: kinds for side, kinds in sides.items() if side not in out}
    if rest:
        out.update(_joined_sides(conn, match, filters, rest, limit))
    return {side: out[side] for side in sides}


def _settled_sides(conn: apsw.Connection, match: str, sides: dict[str, tuple[str, ...]],
                   limit: int) -> dict[str, list[tuple[int, float]]]:
    """The groups whose best `limit` one BM25 pass scored and cut inside FTS5 can tell:
    `documents` (kind, and event_id for equal scores) is read only for the rows kept,
    which halves the time on 100k documents. Rows scoring above the last one read are
    complete, so a group with `limit` of them is settled; if the pass read every match,
    all groups are."""
    reach = 2 * PASS_DEPTH * limit + 1
    found = [(int(doc_id), float(score)) for doc_id, score in conn.execute(
        f"SELECT rowid, {_SCORE} AS score FROM documents_fts WHERE documents_fts MATCH ? "
        "ORDER BY score DESC LIMIT ?", (match, reach))]
    every_match = len(found) < reach
    if not every_match:  # the last score read may be shared by rows not read
        found = [hit for hit in found if hit[1] > found[-1][1]]
    ids = [doc_id for doc_id, _ in found]
    known = {int(r[0]): (str(r[1]), str(r[2])) for r in conn.execute(
        f"SELECT doc_id, kind, event_id FROM documents WHERE doc_id IN "
        f"({','.join('?' * len(ids))})", ids)} if ids else {}
    if len(known) != len(found):  # an index row without its document: let the join decide
        return {}
    found.sort(key=lambda hit: (-hit[1], known[hit[0]][1]))
    out = {}
    for side, kinds in sides.items():
        hits = [hit for hit in found if known[hit[0]][0] in kinds][:limit]
        if every_match or len(hits) == limit:
            out[side] = hits
    return out


def _joined_sides(conn: apsw.Connection, match: str, filters: Filters,
                  sides: dict[str, tuple[str, ...]], limit: int
                  ) -> dict[str, list[tuple[int, float]]]:
    """One BM25 pass joined with `documents` keeps the best `PASS_DEPTH` x `limit` that
    the filters allow (a bounded sort); a group still short of `limit` when that pass
    was full gets a pass of its own."""
    condition, params = where(conn, filters)
    side_of = {kind: side for side, kinds in sides.items() for kind in kinds}
    depth = PASS_DEPTH * limit
    sql = (f"SELECT d.doc_id, d.kind, {_SCORE} AS score FROM documents_fts "
           f"JOIN documents d ON d.doc_id = documents_fts.rowid "
           f"WHERE documents_fts MATCH ? AND {condition} ORDER BY score DESC, d.event_id "
           f"LIMIT ?")
    out: dict[str, list[tuple[int, float]]] = {side: [] for side in sides}
    rows = 0
    for doc_id, kind, score in conn.execute(sql, [match, *params, depth]):
        rows += 1
        side = side_of.get(kind)
        if side is not None and len(out[side]) < limit:
            out[side].append((int(doc_id), float(score)))
    if rows == depth:
        for side, kinds in sides.items():
            if len(out[side]) < limit:
                out[side] = ranked(conn, match, filters, limit, kinds)
    return out
