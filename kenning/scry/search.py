"""`kenning scry QUERY`: lexical, semantic and hybrid search over `documents`.

One question runs this pipeline (each step its own module):

1. `intent`: how/where/what questions get code first, why/when/who-changed ones
   history first, "who knows X" the people of the files that answer X; in hybrid
   mode, a sentence whose words settle nothing goes history first when both arms
   find its nearest documents among the commits and notes (`neighbours_say_history`);
2. candidates: each arm (BM25, vectors) ranks code and history separately, up to a
   window of `WINDOW` each, filters applied before the cut;
3. history (`group`): commits and session items are fused, near-duplicates grouped,
   and each group lends its score as evidence to the files it names;
4. code (`rank`): weighted reciprocal-rank fusion, definitions, file coherence, path
   matches, history evidence, path penalties, and one slot per file (`per_file`).

A `Searcher` holds one read connection and, once the semantic arm is used,
the vector matrix and the query encoder, so repeated queries in one process
(`kenning eval`, the benchmarks) pay the loading once.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import apsw

from kenning.errors import KenningError
from kenning.scry import group, intent, lexical, rank
from kenning.scry.filters import KINDS, Filters, check_limit, where
from kenning.scry.fusion import DEFAULT_RRF_K

if TYPE_CHECKING:  # numpy and the thread pool load only when the semantic arm runs
    from concurrent.futures import ThreadPoolExecutor

    from kenning.scry.people import Person
    from kenning.scry.semantic import SemanticIndex

MODES = ("hybrid", "lexical", "semantic")
MAX_QUERY_CHARS = 2000  # far beyond the model's 256 tokens; the rest only costs time
# How many candidates each arm hands to the ranking, per side (code, history): the
# boosts can only promote what is a candidate (semble takes 5 x the page, 50).
WINDOW = 50
EVIDENCE_FILES = 30  # files named by history that may enter the answer on evidence alone
DEFINITIONS = 50  # documents looked up by a symbol's name beyond the candidates
MAX_PER_FILE = 20
CODE = ("code",)
HISTORY = ("commit", "session")
NO_EMBEDDINGS = ("this database has no embeddings yet (a scrape makes them after the search "
                 "index: `kenning status` says whether they are behind); run `kenning scrape` "
                 "(without --no-embed) or `kenning materialize embeddings`")


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
    path: str | None = None  # code: the file, and the span of its best document
    start_line: int | None = None
    end_line: int | None = None
    symbol: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)  # history naming the file
    grouped: list[dict[str, Any]] = field(default_factory=list)  # near-duplicates folded in
    also: list[dict[str, Any]] = field(default_factory=list)  # the file's other matches
    steps: list[str] = field(default_factory=list)  # --explain: why it is here

    def as_json(self, explain: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "event_type": self.event_type, "time": self.timestamp,
            "source": self.source, "author": self.author, "paths": self.paths,
            "title": self.title, "snippet": self.snippet, "score": round(self.score, 6),
            "event_id": self.event_id, "path": self.path, "start_line": self.start_line,
            "end_line": self.end_line, "symbol": self.symbol, "evidence": self.evidence,
            "grouped": self.grouped, "also": self.also,
        }
        if explain:
            out["explain"] = {"arms": {arm: {"rank": r, "score": round(s, 6)}
                                       for arm, (r, s) in sorted(self.arms.items())},
                              "why": self.steps}
        return out

    def reason(self) -> str | None:
        """The evidence in one line: `via: commit abc1234 'subject'`."""
        if not self.evidence:
            return None
        first = self.evidence[0]
        label = "commit" if first["kind"] == "commit" else first["event_type"].rsplit(".", 1)[-1]
        where = first["source"][:7] if first["kind"] == "commit" else first["source"]
        title = first["title"] if len(first["title"]) <= 60 else first["title"][:59] + "…"
        more = f" (+{len(self.evidence) - 1} more)" if len(self.evidence) > 1 else ""
        return f"via: {label} {where} {title!r}{more}"


@dataclass
class Answer:
    mode: str  # the mode that actually ran
    results: list[Result]
    notes: list[str] = field(default_factory=list)
    intent: str = "code"  # code, history or people: what comes first
    people: list[Person] = field(default_factory=list)  # a question about people


class Searcher:
    def __init__(self, conn: apsw.Connection, rrf_k: float = DEFAULT_RRF_K,
                 long_lived: bool = False) -> None:
        self.conn = conn
        self.rrf_k = rrf_k
        # many questions: the query encoder that starts slower (0.3 s) and answers faster
        # (7 ms against 22); a searcher takes it from its second question on
        self.long_lived = long_lived
        self._semantic: SemanticIndex | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._reader: apsw.Connection | None = None
        _require_documents(conn)

    def search(self, query: str, *, mode: str = "hybrid", filters: Filters | None = None,
               limit: int = 10, per_file: int = 1) -> Answer:
        if mode not in MODES:
            raise KenningError(f"unknown --mode {mode!r}; choose {', '.join(MODES)}")
        check_limit(limit)
        if not 1 <= per_file <= MAX_PER_FILE:
            raise KenningError(f"--per-file must be between 1 and {MAX_PER_FILE}, "
                               f"not {per_file}")
        filters = filters or Filters()
        text = " ".join(query.split())
        if not text:
            raise KenningError("the query is empty; say what to look for, e.g. "
                               "`kenning scry \"why did we drop the cache\"`")
        notes: list[str] = []
        if len(text) > MAX_QUERY_CHARS:
            text = text[:MAX_QUERY_CHARS]
            notes.append(f"the query was cut to its first {MAX_QUERY_CHARS} characters")
        if mode != "lexical" and not _has_vectors(self.conn):
            if mode == "semantic":
                raise KenningError(f"semantic search needs embeddings: {NO_EMBEDDINGS}")
            notes.append(f"lexical results only: {NO_EMBEDDINGS}")
            mode = "lexical"
        asks = intent.intent(text)
        wanted = text if asks != "people" else intent.topic(text)
        terms = lexical.query_terms(wanted)
        sides = _sides(self.conn, filters)
        window = max(WINDOW, 5 * limit)
        arms = self._candidates(wanted, mode, filters, sides, window)
        self.long_lived = True  # it answered one: whoever keeps it asks more
        told_as_history = False  # an open sentence whose nearest documents are history
        if mode == "hybrid" and asks == "code" and "history" in sides and intent.is_open(text):
            best = {arm: {side: [score for _, score in arms.get(side, {}).get(arm, [])]
                          for side in sides} for arm in ("lexical", "semantic")}
            told_as_history = intent.neighbours_say_history(best["lexical"], best["semantic"])
            asks = "history" if told_as_history else asks
        if mode != "lexical" and self._semantic is not None and self._semantic.made:
            notes.append(f"this question made {self._semantic.made} MiniLM re-ranking vectors "
                         f"itself ({self._semantic.made_seconds:.0f} s): the background fill a "
                         "scrape starts had not made them yet")
        history = self._history(arms.get("history", {}), wanted)
        groups = group.group(history)
        code: list[rank.Slot] = []
        named: dict[str, list[dict[str, Any]]] = {}
        if "code" in sides:
            code, named = self._code(arms.get("code", {}), wanted, terms, filters, groups,
                                     per_file)
        answer = Answer(mode, [], notes, asks)
        # only the results shown are built (their snippets cost the most)
        first, second = ("history", "code") if asks == "history" else ("code", "history")
        for side in (first, second):
            room = limit - len(answer.results)
            if side == "code":
                answer.results.extend(self._code_results(code[:room], terms, named))
            else:
                shown = [self._history_result(g, terms) for g in groups[:room]]
                for result in shown if told_as_history else []:
                    result.steps.append("history first: the question reads like this project's "
                                        "commits (its nearest documents by words and by "
                                        "meaning are history)")
                answer.results.extend(shown)
        if asks == "people":
            from kenning.scry.people import experts_for

            files = [(s.doc.path, s.score) for s in code if s.nth == 1][:limit]
            answer.people = list(experts_for(self.conn, files, limit))
            if not answer.people:
                notes.append("no one's expertise is known for the files that answer this "
                             "(run `kenning scrape` with the expertise view)")
        return answer

    # -- candidates --------------------------------------------------------------

    def _candidates(self, text: str, mode: str, filters: Filters, sides: tuple[str, ...],
                    window: int) -> dict[str, dict[str, list[tuple[int, float]]]]:
        """side (code, history) -> arm -> (doc_id, score) best first."""
        kinds = {"code": CODE, "history": HISTORY}
        out: dict[str, dict[str, list[tuple[int, float]]]] = {side: {} for side in sides}
        vectors = None
        if mode in ("semantic", "hybrid"):
            from kenning.embed.encode import query_encoder  # numpy + tokenizers, never torch
            from kenning.scry import semantic

            index = self.semantic_index()
            selection = index.select(filters)
            windows = {side: (kinds[side], window) for side in sides}
            reader = self._second_reader()

            def semantic_arm() -> dict[str, list[tuple[int, float]]]:
                encoder = query_encoder(selection.matrix.model_id, self.long_lived)
                query = encoder.encode([text])[0]
                found = semantic.score(selection, query, windows)
                return index.rerank(selection, query, found, windows, reader)

            # numpy and onnxruntime let go of the GIL while they compute, and so does
            # SQLite: the query is encoded, scored and re-ranked (on a connection of its
            # own) while the lexical arm runs
            vectors = self._beside().submit(semantic_arm)
        if mode in ("lexical", "hybrid"):
            match = lexical.fts_query(text, self.conn)
            found = {} if match is None else lexical.ranked_sides(
                self.conn, match, filters, {side: kinds[side] for side in sides}, window)
            for side in sides:
                out[side]["lexical"] = found.get(side, [])
        if vectors is not None:
            found = vectors.result()
            for side in sides:
                out[side]["semantic"] = found[side]
        return out

    def _second_reader(self) -> apsw.Connection:
        """The semantic arm's own read connection: a connection runs one statement at a
        time, and re-ranking reads the database while the lexical arm's FTS5 pass holds
        the first (on 100k documents, 15-20 ms off a hybrid question). Its answers
        equal the first's: they read the same committed state, as one question's
        statements always have (each is its own read). An in-memory database has only
        the one connection."""
        if self._reader is None:
            self._reader = self.conn
            if self.conn.filename:
                from kenning.eventlog.database import another_reader

                self._reader = another_reader(self.conn)
        return self._reader

    def close(self) -> None:
        """Close what the searcher opened (its thread, its second connection); the
        connection it was given stays its owner's."""
        if self._thread is not None:
            self._thread.shutdown()
        if self._reader is not None and self._reader is not self.conn:
            self._reader.close()
        self._thread = self._reader = None

    def _beside(self) -> ThreadPoolExecutor:
        """The thread that runs the semantic arm beside the lexical one."""
        if self._thread is None:
            from concurrent.futures import ThreadPoolExecutor

            self._thread = ThreadPoolExecutor(1, thread_name_prefix="kenning-semantic")
        return self._thread

    def _alpha(self, text: str) -> float:
        return rank.alpha_for(intent.is_symbol_query(text))

    # -- history -----------------------------------------------------------------

    def _history(self, arms: dict[str, list[tuple[int, float]]],
                 text: str) -> list[group.HistoryDoc]:
        ids = sorted({d for hits in arms.values() for d, _ in hits})
        if not ids:
            return []
        docs = {int(r[0]): group.HistoryDoc(int(r[0]), str(r[1]), str(r[2]), str(r[3]),
                                            str(r[4]), str(r[5]), r[6], json.loads(r[7]),
                                            str(r[8]), str(r[9]))
                for r in self.conn.execute(
                    "SELECT doc_id, event_id, kind, event_type, timestamp, source, author, "
                    f"paths, title, body FROM documents WHERE doc_id IN ({_marks(ids)})", ids)}
        fused, seen = rank.fused_scores(arms, self._alpha(text), self.rrf_k)
        for doc_id, doc in docs.items():
            doc.score, doc.arms = fused[doc_id], seen[doc_id]
        return sorted(docs.values(), key=lambda d: (-d.score, d.event_id))

    def _history_result(self, members: list[group.HistoryDoc], terms: list[str]) -> Result:
        best = members[0]
        steps = [f"{arm} #{r} ({s:.3g})" for arm, (r, s) in sorted(best.arms.items())]
        steps.append(f"fused {best.score:.4g}")
        if len(members) > 1:
            steps.append(f"{len(members) - 1} near-identical item(s) grouped with it")
        return Result(best.doc_id, best.event_id, best.kind, best.event_type, best.timestamp,
                      best.source, best.author, best.paths, best.title,
                      snippet(best.body, terms), best.score, dict(best.arms),
                      grouped=[m.brief() for m in members[1:]], steps=steps)

    # -- code --------------------------------------------------------------------

    def _code(self, arms: dict[str, list[tuple[int, float]]], text: str, terms: list[str],
              filters: Filters,
              groups: list[list[group.HistoryDoc]], per_file: int
              ) -> tuple[list[rank.Slot], dict[str, list[dict[str, Any]]]]:
        """File slots best first, and per file the history that names it."""
        symbol_query = intent.is_symbol_query(text)
        query = rank.Query(
            terms=terms,
            symbols=intent.symbol_names(text) if symbol_query else intent.embedded_symbols(text),
            symbol_query=symbol_query, asked=intent.asked_categories(text))
        ids = sorted({d for hits in arms.values() for d, _ in hits})
        docs = self._code_docs(f"d.doc_id IN ({_marks(ids)})", ids, "arms") if ids else {}
        rank.fuse(docs, arms, rank.alpha_for(symbol_query), self.rrf_k)
        best = max((d.fused for d in docs.values()), default=0.0) or 1.0 / (self.rrf_k + 1)
        if query.symbols:  # definitions the arms missed, found by their name
            names = query.symbols
            condition, params = where(self.conn, filters)
            found = self._code_docs(
                f"d.symbol IN ({_marks(names)}) AND +d.kind = 'code' AND {condition} "
                f"ORDER BY d.path, d.event_id LIMIT {DEFINITIONS}", [*names, *params],
                "definition")
            for doc_id, doc in found.items():
                docs.setdefault(doc_id, doc)
        rank.definition_boosts(docs, query, best)
        # history evidence: each group's best item speaks for the files it names
        representatives = [g[0] for g in groups]
        sums, named = group.evidence(representatives, _all_paths(representatives))
        in_code = {d.path for d in docs.values()}
        strongest = sorted(sums, key=lambda p: (-sums[p], p))
        missing = [p for p in strongest[:EVIDENCE_FILES] if p not in in_code]
        if missing:
            condition, params = where(self.conn, filters)
            heads = self._code_docs(
                f"d.path IN ({_marks(missing)}) AND +d.kind = 'code' AND {condition}",
                [*missing, *params], "evidence", first_of_file=True)
            for doc_id, doc in heads.items():
                docs.setdefault(doc_id, doc)
        present = {d.path for d in docs.values()}
        evidence = {p: v for p, v in sums.items() if p in present}
        reasons = {p: named[p][0].reason() for p in evidence}
        slots = rank.rank(docs, query, best=best, evidence=evidence,
                          evidence_reasons=reasons, per_file=per_file)
        return slots, {p: [d.brief() for d in named[p]] for p in evidence}

    def _code_docs(self, condition: str, params: list[Any], origin: str,
                   first_of_file: bool = False) -> dict[int, rank.CodeDoc]:
        """Code documents matching `condition` on `d`; with `first_of_file` only each
        file's first (its head: the lowest start line, then event id)."""
        columns = "d.doc_id, d.event_id, d.path, d.start_line, d.end_line, d.symbol, d.title"
        sql = f"SELECT {columns} FROM documents d WHERE {condition}"
        if first_of_file:
            sql = (f"SELECT * FROM (SELECT {columns}, row_number() OVER (PARTITION BY d.path "
                   "ORDER BY coalesce(d.start_line, 0), d.event_id) AS n FROM documents d "
                   f"WHERE {condition}) WHERE n = 1")
        return {int(r[0]): rank.CodeDoc(int(r[0]), str(r[1]), str(r[2]), r[3], r[4], r[5],
                                        str(r[6]), origin=origin)
                for r in self.conn.execute(sql, params) if r[2] is not None}

    def _code_results(self, slots: list[rank.Slot], terms: list[str],
                      named: dict[str, list[dict[str, Any]]]) -> list[Result]:
        if not slots:
            return []
        ids = [slot.doc.doc_id for slot in slots]
        rows = {int(r[0]): r[1:] for r in self.conn.execute(
            "SELECT doc_id, event_type, timestamp, source, author, paths, body FROM documents "
            f"WHERE doc_id IN ({_marks(ids)})", ids)}
        out = []
        for slot in slots:
            doc = slot.doc
            etype, ts, source, author, paths, body = rows[doc.doc_id]
            evidence = named.get(doc.path, []) if slot.nth == 1 else []
            also = [{"start_line": o.start_line, "end_line": o.end_line, "symbol": o.symbol,
                     "event_id": o.event_id} for o in slot.others]
            out.append(Result(
                doc.doc_id, doc.event_id, "code", str(etype), str(ts), str(source), author,
                json.loads(paths), doc.title, snippet(str(body), terms), slot.score,
                dict(doc.arms), path=doc.path, start_line=doc.start_line,
                end_line=doc.end_line, symbol=doc.symbol, evidence=evidence, also=also,
                steps=slot.steps))
        return out

    # -- the semantic arm ----------------------------------------------------------

    def semantic_index(self) -> SemanticIndex:
        if self._semantic is None:
            from kenning.scry.semantic import SemanticIndex

            self._semantic = SemanticIndex(self.conn)
        return self._semantic

    def encode(self, text: str) -> Any:
        """The query's vector, by the model that made the stored vectors."""
        from kenning.embed.encode import query_encoder  # numpy + tokenizers, never torch

        row = self.conn.execute("SELECT model FROM embeddings LIMIT 1").fetchone()
        return query_encoder(str(row[0]), self.long_lived).encode([text])[0]


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def _all_paths(docs: list[group.HistoryDoc]) -> set[str]:
    return {p for d in docs for p in d.paths}


def _sides(conn: apsw.Connection, filters: Filters) -> tuple[str, ...]:
    """Which sides (code, history) the --type filters leave."""
    if not filters.types:
        return ("code", "history")
    condition, params = where(conn, Filters(types=filters.types))
    allowed = {r[0] for k in KINDS for r in conn.execute(
        f"SELECT ? WHERE EXISTS (SELECT 1 FROM documents d WHERE d.kind = ? AND {condition})",
        [k, k, *params])}
    return tuple(side for side, kinds in (("code", CODE), ("history", HISTORY))
                 if allowed & set(kinds))


def _has_vectors(conn: apsw.Connection) -> bool:
    from kenning.scry.matrix import has_vectors  # numpy: not for a lexical query

    return has_vectors(conn)


def _require_documents(conn: apsw.Connection) -> None:
    found = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE name IN ('documents', 'documents_fts')")}
    if found != {"documents", "documents_fts"}:
        raise KenningError("this database has no search index yet; run `kenning scrape` "
                           "(or `kenning materialize fts`)")
    from kenning.materialize.fts import FtsMaterializer

    try:
        row = conn.execute("SELECT version FROM materializer_state WHERE name = 'fts'"
                           ).fetchone()
    except apsw.SQLError:  # documents written by hand (benchmarks, tests): taken as they are
        return
    built = str(row[0]) if row else None
    if built != str(FtsMaterializer.version):
        # an index of another shape (an older kenning's) would fail on its first query
        raise KenningError(f"this database's search index was built by another kenning "
                           f"(index version {built}, this one reads "
                           f"{FtsMaterializer.version}); run `kenning scrape` (or "
                           f"`kenning materialize fts`)")


@functools.lru_cache(maxsize=64)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """The first place any of the words starts a word (longest alternatives first)."""
    words = sorted(terms, key=lambda t: (-len(t), t))
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in words) + ")")


def snippet(body: str, terms: list[str], width: int = 160) -> str:
    """About `width` characters of `body` around the first query word it contains, cut
    at word boundaries."""
    flat = " ".join(body.split())
    if len(flat) <= width:
        return flat
    found = _terms_pattern(tuple(terms)).search(flat.lower()) if terms else None
    start = max(0, found.start() - width // 4) if found else 0
    end = min(len(flat), start + width)
    start = max(0, end - width)
    if start > 0:  # begin at the next word
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < end else start
    if end < len(flat):  # end after the last whole word
        space = flat.rfind(" ", start, end + 1)
        end = space if space > start else end
    return ("…" if start else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")
