"""Tables from git events: `commits`, `commit_files`, `tags`."""

from __future__ import annotations

import json
from typing import Any

from kenning.materialize.base import StoredEvent, TableView


def _commit_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    files = d.get("files", [])
    conventional = d.get("conventional") or {}
    return [(
        e.event_id, d["sha"], e.timestamp, d["author"]["name"], d["author"]["email"],
        d["author"]["date"], d["committer"]["name"], d["committer"]["email"],
        d.get("subject", ""), d.get("body", ""), int(bool(d.get("is_merge"))),
        int(bool(d.get("first_parent"))), json.dumps(d.get("parents", [])), len(files),
        sum(f.get("lines_added") or 0 for f in files),
        sum(f.get("lines_removed") or 0 for f in files),
        conventional.get("type"), conventional.get("scope"),
        json.dumps(d.get("refs", []), ensure_ascii=False, sort_keys=True),
    )]


def _file_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    return [(
        e.event_id, d["sha"], e.timestamp, f["path"], f.get("old_path"), f.get("change_type"),
        f.get("lines_added"), f.get("lines_removed"),
        None if f.get("binary") is None else int(f["binary"]),
        int(bool(d.get("is_merge"))), int(bool(d.get("first_parent"))), d["author"]["name"],
    ) for f in d.get("files", [])]


def _tag_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    tagger = d.get("tagger") or {}
    return [(e.event_id, d["name"], e.timestamp, d["commit"], int(bool(d.get("annotated"))),
             tagger.get("name"), d.get("message", ""))]


VIEWS = [
    TableView(
        "commits",
        """CREATE TABLE commits(
            event_id TEXT NOT NULL PRIMARY KEY, sha TEXT NOT NULL, timestamp TEXT NOT NULL,
            author_name TEXT NOT NULL, author_email TEXT NOT NULL, author_date TEXT NOT NULL,
            committer_name TEXT NOT NULL, committer_email TEXT NOT NULL,
            subject TEXT NOT NULL, body TEXT NOT NULL, is_merge INTEGER NOT NULL,
            first_parent INTEGER NOT NULL, parents TEXT NOT NULL, files_changed INTEGER NOT NULL,
            lines_added INTEGER NOT NULL, lines_removed INTEGER NOT NULL,
            conventional_type TEXT, conventional_scope TEXT, refs TEXT NOT NULL);
        CREATE INDEX commits_sha ON commits(sha);
        CREATE INDEX commits_time ON commits(timestamp);
        CREATE INDEX commits_author ON commits(author_name);""",
        ("git.commit",),
        _commit_rows,
    ),
    TableView(
        "commit_files",
        """CREATE TABLE commit_files(
            event_id TEXT NOT NULL, sha TEXT NOT NULL, timestamp TEXT NOT NULL,
            path TEXT NOT NULL, old_path TEXT, change_type TEXT,
            lines_added INTEGER, lines_removed INTEGER, binary INTEGER,
            is_merge INTEGER NOT NULL, first_parent INTEGER NOT NULL, author_name TEXT NOT NULL,
            PRIMARY KEY(event_id, path));
        CREATE INDEX commit_files_path ON commit_files(path, timestamp);
        CREATE INDEX commit_files_sha ON commit_files(sha);""",
        ("git.commit",),
        _file_rows,
    ),
    TableView(
        "tags",
        """CREATE TABLE tags(
            event_id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, timestamp TEXT NOT NULL,
            sha TEXT NOT NULL, annotated INTEGER NOT NULL, tagger TEXT, message TEXT NOT NULL);
        CREATE INDEX tags_name ON tags(name);""",
        ("git.tag",),
        _tag_rows,
    ),
]
