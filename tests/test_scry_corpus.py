"""A small search corpus (no tests here) in the `documents` contract, with real vectors.

Vectors come from the numpy encoder (proved equal to sentence-transformers in
test_embed.py), so these tests need no torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import apsw

from kenning.embed.model import MODEL_ID
from kenning.embed.numpy_encoder import NumpyEncoder
from kenning.materialize.embeddings import EmbeddingsMaterializer
from kenning.materialize.fts import FtsMaterializer, path_text, searchable

# (kind, event_type, timestamp, source, author, paths, title, body)
DOCS = [
    ("commit", "git.commit", "2024-01-05T10:00:00Z", "a" * 40, "Alice Example",
     ["db/store.py", "db/schema.sql"], "Merge the per-tenant databases into one SQLite file",
     "Merge the per-tenant databases into one SQLite file\n\nOne file is easier to back up."),
    ("commit", "git.commit", "2024-02-01T10:00:00Z", "b" * 40, "Bob Builder",
     ["net/retry.py"], "Retry failed HTTP requests with exponential backoff",
     "Retry failed HTTP requests with exponential backoff"),
    ("commit", "git.commit", "2024-03-01T10:00:00Z", "c" * 40, "Carol Coder",
     ["ui/[draft]/page.tsx", "docs/100%.md"], "Odd paths: brackets and percent",
     "Odd paths: brackets and percent in file names"),
    ("session", "session.decision", "2024-01-04T09:00:00Z", "20240104-090000", None,
     ["db/store.py"], "Stop keeping a separate database for every customer",
     "Stop keeping a separate database for every customer; storage is consolidated."),
    ("session", "session.challenge", "2024-02-02T09:00:00Z", "20240202-090000", None,
     ["layer/sessions/20240202-090000.md"], "Flaky network calls",
     "The upstream API drops connections under load; calls must be retried."),
    ("code", "code.function", "2024-02-01T10:00:00Z", "net/retry.py:12", None,
     ["net/retry.py"], "retry_with_backoff",
     "retry_with_backoff\ndef retry_with_backoff(call, attempts=5)\n"
     "Call again after a growing pause when the request fails."),
    ("code", "code.type", "2024-01-05T10:00:00Z", "db/store.py:3", None, ["db/store.py"],
     "SqliteStore", "SqliteStore\nclass SqliteStore\nAll tables live in one database file."),
    ("code", "code.function", "2024-03-01T10:00:00Z", "ui/[draft]/page.tsx:1", None,
     ["ui/[draft]/page.tsx"], "renderDraftPage",
     "renderDraftPage\nfunction renderDraftPage(props)\nRender the draft editor page."),
]

_encoder: NumpyEncoder | None = None


def build(path: Path, *, embed: bool = True, docs: list[tuple[Any, ...]] | None = None,
          reverse: bool = False) -> Path:
    """Document n gets event id `e{n}`; `reverse` inserts them last first, so the same
    documents get other doc_ids (as an incremental build and a rebuild do)."""
    global _encoder
    docs = DOCS if docs is None else docs
    conn = apsw.Connection(str(path))
    conn.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    FtsMaterializer().create(conn, {})
    numbered = list(enumerate(docs))
    for n, (kind, etype, ts, source, author, paths, title, body) in (
            reversed(numbered) if reverse else numbered):
        text = searchable(title, body)
        # a code document: its file, its line (from `path:line`), its name
        file = paths[0] if kind == "code" else None
        line = int(source.rsplit(":", 1)[1]) if file and ":" in source else None
        symbol = title.rsplit(".", 1)[-1] if file and etype != "code.chunk" else None
        words = path_text(file) if file else ""
        conn.execute(
            "INSERT INTO documents(event_id, kind, event_type, timestamp, source, author, paths,"
            " title, body, search_text, path, start_line, end_line, symbol, path_text)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (f"e{n}", kind, etype, ts, source, author, json.dumps(paths), title, body, text,
             file, line, None if line is None else line + body.count("\n"), symbol, words))
        conn.execute("INSERT INTO documents_fts(rowid, title, path_text, search_text) "
                     "VALUES (last_insert_rowid(), ?, ?, ?)", (title, words, text))
    if embed:
        EmbeddingsMaterializer().create(conn, {})
        _encoder = _encoder or NumpyEncoder()
        vectors = _encoder.encode([d[7] for d in docs])
        conn.executemany("INSERT INTO embeddings VALUES (?, ?, ?, ?)",
                         [(f"e{n}", MODEL_ID, "h", vectors[n].tobytes())
                          for n in range(len(docs))])
    conn.close()
    return path
