"""The `fts` materializer: one FTS5 index over commits, session items and code.

One `documents` table (the shared search contract scry and embeddings read)
and one external-content FTS5 index over it, so BM25 scores are comparable
across kinds. Three columns: the title, the words of a code document's path
(`tokens.path_text`: "response" finds `lib/response.js` by its name alone) and
the text. The porter tokenizer stems ("routes" finds "routing"), and
identifiers are also indexed split (`SpawnEntity` as "spawn entity"; see tokens).

Code documents are the definitions (functions, types, constants) and the
chunks of code outside them (`code.chunk`), so every line of a source file
is in some document; each carries its file, line span and, for a definition,
its unqualified name (`symbol`).

A session item's `paths` are the repository paths its text names that the git
history knows (any path a commit touched), else the session file. Which paths
are known changes as commits arrive, so the fold keeps the known paths and each
item's path-like tokens, and re-resolves the items a changed path concerns:
the result depends only on the final log, never on arrival order (I3).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import apsw

from kenning.eventlog import reader
from kenning.eventlog.events import canonical_json
from kenning.materialize.base import Params, StoredEvent
from kenning.materialize.tokens import index_text, path_text

searchable = index_text  # its name before tokens.py (scry's tests and the benchmark use it)

SESSION_ITEMS = ("session.goal", "session.decision", "session.pattern", "session.challenge",
                 "session.work", "session.context", "session.note")
CODE_DOCUMENTS = ("code.function", "code.type", "code.constant", "code.chunk")

_DDL = """
CREATE TABLE documents(
  doc_id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  event_type TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  source TEXT NOT NULL,
  author TEXT,
  paths TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  search_text TEXT NOT NULL,
  path TEXT,                       -- code: the file; NULL otherwise
  start_line INTEGER,              -- code: the span the document covers (1-based, inclusive)
  end_line INTEGER,
  symbol TEXT,                     -- a definition's unqualified name; NULL otherwise
  path_text TEXT NOT NULL DEFAULT ''  -- code: the words of its path (tokens.path_text)
);
CREATE INDEX documents_kind ON documents(kind, timestamp);
CREATE INDEX documents_time ON documents(timestamp);
CREATE INDEX documents_path ON documents(path) WHERE path IS NOT NULL;
CREATE INDEX documents_symbol ON documents(symbol) WHERE symbol IS NOT NULL;
CREATE VIRTUAL TABLE documents_fts USING fts5(title, path_text, search_text,
  content='documents', content_rowid='doc_id',
  tokenize='porter unicode61 remove_diacritics 2');
-- every path the git history knows, with how many commit events name it
CREATE TABLE fts_paths(path TEXT PRIMARY KEY, commits INTEGER NOT NULL) WITHOUT ROWID;
-- each known path under every "/"-boundary suffix ("a/b/c.py", "b/c.py", "c.py")
CREATE TABLE fts_path_suffixes(suffix TEXT NOT NULL, path TEXT NOT NULL,
  PRIMARY KEY(suffix, path)) WITHOUT ROWID;
-- the path-like tokens of each session item
CREATE TABLE fts_mentions(event_id TEXT NOT NULL, token TEXT NOT NULL,
  PRIMARY KEY(event_id, token)) WITHOUT ROWID;
CREATE INDEX fts_mentions_token ON fts_mentions(token);
"""

_MAX_MENTIONS = 20  # path-like tokens kept per item
_MAX_AMBIGUOUS = 3  # a token naming more known paths than this ("__init__.py") is ignored
_RUN = re.compile(r"[\w.\-/]+")
_FILE_NAME = re.compile(r"\w\.[A-Za-z0-9]+$")


@dataclass(frozen=True)
class Document:
    kind: str
    source: str
    author: str | None
    paths: list[str] | None  # None: a session item, resolved against the known paths
    title: str
    body: str
    path: str | None = None  # code only, and the three below
    start_line: int | None = None
    end_line: int | None = None
    symbol: str | None = None


class FtsMaterializer:
    name = "fts"
    # 2: a session item's source is its note's path:line; 3: path words, line spans,
    # symbols, constants and code chunks, stemming; 4: an index on symbol (definitions
    # are looked up by name)
    version = 4
    params_type = Params  # none
    incremental = True
    index_after_rebuild = False
    consumes = ("git.commit", *SESSION_ITEMS, *CODE_DOCUMENTS)

    def tables(self) -> tuple[str, ...]:
        return ("documents", "documents_fts", "fts_paths", "fts_path_suffixes", "fts_mentions")

    def create(self, conn: apsw.Connection, params: Params) -> None:
        conn.execute(_DDL)

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent], params: Params) -> None:
        commits = [e for e in events if e.event_type == "git.commit"]
        changed = _count_paths(conn, commits, +1)
        rows: list[tuple[Any, ...]] = []
        mentions: list[tuple[str, str]] = []
        for event in events:
            doc = document(event)
            if doc is None:
                continue
            paths = doc.paths
            if paths is None:
                tokens = mentioned_paths(doc.body)
                mentions.extend((event.event_id, t) for t in tokens)
                paths = _resolve(conn, tokens, event.source_file)
            rows.append((event.event_id, doc.kind, event.event_type, event.timestamp, doc.source,
                         doc.author, canonical_json(paths), doc.title, doc.body,
                         index_text(doc.title, doc.body), doc.path, doc.start_line,
                         doc.end_line, doc.symbol, path_text(doc.path) if doc.path else ""))
        row = conn.execute("SELECT coalesce(max(doc_id), 0) FROM documents").fetchone()
        last = row[0] if row else 0
        conn.executemany(
            "INSERT INTO documents(event_id, kind, event_type, timestamp, source, author,"
            " paths, title, body, search_text, path, start_line, end_line, symbol, path_text)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO fts_mentions VALUES (?, ?)", mentions)
        # new rows get doc_ids above the old maximum (INTEGER PRIMARY KEY, no AUTOINCREMENT)
        conn.execute("INSERT INTO documents_fts(rowid, title, path_text, search_text) "
                     "SELECT doc_id, title, path_text, search_text FROM documents "
                     "WHERE doc_id > ?", (last,))
        _refresh(conn, changed)

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: Params) -> bool:
        for event in events:
            row = conn.execute("SELECT doc_id, title, path_text, search_text FROM documents "
                               "WHERE event_id = ?", (event.event_id,)).fetchone()
            if row is None:
                continue
            conn.execute("INSERT INTO documents_fts(documents_fts, rowid, title, path_text,"
                         " search_text) VALUES ('delete', ?, ?, ?, ?)", row)
            conn.execute("DELETE FROM documents WHERE doc_id = ?", (row[0],))
            conn.execute("DELETE FROM fts_mentions WHERE event_id = ?", (event.event_id,))
        commits = [e for e in events if e.event_type == "git.commit"]
        _refresh(conn, _count_paths(conn, commits, -1))
        return True


# -- documents -------------------------------------------------------------------


def document(e: StoredEvent) -> Document | None:
    """The searchable document of one event, or None (a merge with no message body)."""
    d = e.data
    if e.event_type == "git.commit":
        subject, body = str(d.get("subject", "")), str(d.get("body", "")).strip()
        if d.get("is_merge") and not body:
            return None
        paths = sorted({f["path"] for f in d.get("files", [])})
        text = subject + ("\n\n" + body if body else "")
        author = (d.get("author") or {}).get("name")
        return Document("commit", e.source_id, author, paths, subject, text)
    if e.event_type.startswith("session."):
        text = str(d.get("text") or d.get("content") or "").strip()
        if not text:
            return None
        # where to read it: the note and the item's line, as an editor opens it
        where = e.source_file or str(d.get("session_id") or e.source_id)
        if e.source_file and d.get("line"):
            where = f"{e.source_file}:{d['line']}"
        return Document("session", where, None, None, _first_line(text), text)
    if e.event_type in CODE_DOCUMENTS:
        return _code_document(e)
    return None


def _code_document(e: StoredEvent) -> Document:
    """A definition (titled by its qualified name) or a chunk of the code outside
    the definitions (titled by its file)."""
    d = e.data
    path = e.source_file or e.source_id.split("::")[0]
    start = _line(d.get("start_line") or d.get("line"))
    end = _line(d.get("end_line")) or start
    source = f"{path}:{start}" if start else path
    if e.event_type == "code.chunk":
        return Document("code", source, None, [path], path, str(d.get("text") or ""),
                        path, start, end, None)
    name = str(d.get("qualified_name") or d.get("name") or e.source_id.split("::")[-1])
    symbol = str(d.get("name") or name.rsplit(".", 1)[-1])
    head = name
    if e.event_type == "code.constant" and d.get("value"):  # `NAME = value`, as written
        typed = f"{name}: {d['type']}" if d.get("type") else name
        head = f"{typed} = {d['value']}"
    decorators = "\n".join(f"@{x}" for x in d.get("decorators") or [])  # `@app.route("/")`
    parts = [head, decorators, d.get("signature"), d.get("docstring"), d.get("body_excerpt")]
    body = "\n".join(str(p).strip() for p in parts if p and str(p).strip())
    return Document("code", source, None, [path], name, body, path, start, end, symbol)


def _line(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line[:200]


def mentioned_paths(text: str) -> list[str]:
    tokens: dict[str, None] = {}
    for match in _RUN.finditer(text):
        if match.group(0).startswith("//"):  # a URL
            continue
        token = match.group(0).strip(".-/")
        if "/" in token or _FILE_NAME.search(token):
            tokens.setdefault(token, None)
        if len(tokens) >= _MAX_MENTIONS:
            break
    return sorted(tokens)


# -- known paths -------------------------------------------------------------------


def _suffixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[i:]) for i in range(len(parts))]


def _count_paths(conn: apsw.Connection, commits: Iterable[StoredEvent], sign: int) -> set[str]:
    """Adjust how many commit events name each path; return the paths that appeared
    or disappeared."""
    counts: Counter[str] = Counter()
    for e in commits:
        names = set()
        for f in e.data.get("files", []):
            names.add(f["path"])
            if f.get("old_path"):
                names.add(f["old_path"])
        counts.update(names)
    changed = set()
    for path, n in sorted(counts.items()):
        conn.execute("UPDATE fts_paths SET commits = commits + ? WHERE path = ?",
                     (sign * n, path))
        if conn.changes() == 0:
            if sign > 0:
                conn.execute("INSERT INTO fts_paths VALUES (?, ?)", (path, n))
                conn.executemany("INSERT INTO fts_path_suffixes VALUES (?, ?)",
                                 [(s, path) for s in _suffixes(path)])
                changed.add(path)
            continue
        left = conn.execute("SELECT commits FROM fts_paths WHERE path = ?", (path,)).fetchone()
        if sign < 0 and left is not None and int(left[0]) <= 0:  # type: ignore[arg-type]
            conn.execute("DELETE FROM fts_paths WHERE path = ?", (path,))
            conn.execute("DELETE FROM fts_path_suffixes WHERE path = ?", (path,))
            changed.add(path)
    return changed


def _resolve(conn: apsw.Connection, tokens: Sequence[str], source_file: str | None) -> list[str]:
    paths: set[str] = set()
    for token in tokens:
        found = [r[0] for r in conn.execute(
            f"SELECT path FROM fts_path_suffixes WHERE suffix = ? LIMIT {_MAX_AMBIGUOUS + 1}",
            (token,))]
        if len(found) <= _MAX_AMBIGUOUS:
            paths.update(found)
    if not paths:
        return [source_file] if source_file else []
    return sorted(paths)


def _refresh(conn: apsw.Connection, changed: set[str]) -> None:
    """Re-resolve the paths of the session items that name a path that came or went."""
    if not changed or conn.execute("SELECT 1 FROM fts_mentions LIMIT 1").fetchone() is None:
        return
    tokens = sorted({s for p in changed for s in _suffixes(p)})
    affected: set[str] = set()
    for i in range(0, len(tokens), 500):
        chunk = tokens[i:i + 500]
        marks = ",".join("?" * len(chunk))
        affected.update(r[0] for r in conn.execute(
            f"SELECT event_id FROM fts_mentions WHERE token IN ({marks})", chunk))
    files = reader.source_files(conn, sorted(affected))
    for event_id in sorted(affected):
        mine = [r[0] for r in conn.execute(
            "SELECT token FROM fts_mentions WHERE event_id = ? ORDER BY token", (event_id,))]
        paths = _resolve(conn, mine, files.get(event_id))
        conn.execute("UPDATE documents SET paths = ? WHERE event_id = ?",
                     (canonical_json(paths), event_id))
