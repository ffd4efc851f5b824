"""Tables from session events: `sessions`, `session_ends`, `goals`, `observations`.

`observations` holds every decision, pattern, challenge, work, context and note
item; its `type` column is the event type without the `session.` prefix.
"""

from __future__ import annotations

import json
from typing import Any

from kenning.materialize.base import StoredEvent, TableView

OBSERVATION_TYPES = tuple(
    f"session.{kind}" for kind in ("challenge", "context", "decision", "note", "pattern", "work")
)


def _session_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    return [(
        e.event_id, d["session_id"], d.get("title") or "", d.get("format"), d.get("branch"),
        e.timestamp, d.get("local_start"), d.get("utc_offset"), d.get("starting_commit"),
        d.get("start_tag"), d.get("commit"),
        json.dumps(d.get("tags", []), ensure_ascii=False), d.get("status"), e.source_file,
    )]


def _end_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    return [(
        e.event_id, d["session_id"], e.timestamp, d.get("classification"),
        d.get("files_changed"), d.get("commits"), d.get("end_commit"), e.source_file,
    )]


def _goal_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    return [(e.event_id, d["session_id"], e.timestamp, d["text"], int(bool(d.get("completed"))),
             d.get("line"), e.source_file)]


def _observation_rows(e: StoredEvent) -> list[tuple[Any, ...]]:
    d = e.data
    return [(
        e.event_id, d["session_id"], e.event_type.removeprefix("session."), e.timestamp,
        d.get("section") or "", d.get("block"), d.get("block_title"), d["text"],
        d.get("line"), e.source_file,
    )]


VIEWS = [
    TableView(
        "sessions",
        """CREATE TABLE sessions(
            event_id TEXT NOT NULL PRIMARY KEY, session_id TEXT NOT NULL, title TEXT NOT NULL,
            format TEXT, branch TEXT, started TEXT NOT NULL, local_start TEXT, utc_offset TEXT,
            starting_commit TEXT, start_tag TEXT, commit_sha TEXT, tags TEXT NOT NULL,
            status TEXT, path TEXT);
        CREATE INDEX sessions_id ON sessions(session_id);
        CREATE INDEX sessions_started ON sessions(started);
        CREATE INDEX sessions_commit ON sessions(commit_sha);""",
        ("session.started",),
        _session_rows,
    ),
    TableView(
        "session_ends",
        """CREATE TABLE session_ends(
            event_id TEXT NOT NULL PRIMARY KEY, session_id TEXT NOT NULL, ended TEXT NOT NULL,
            classification TEXT, files_changed INTEGER, commits INTEGER, end_commit TEXT,
            path TEXT);
        CREATE INDEX session_ends_id ON session_ends(session_id);""",
        ("session.ended",),
        _end_rows,
    ),
    TableView(
        "goals",
        """CREATE TABLE goals(
            event_id TEXT NOT NULL PRIMARY KEY, session_id TEXT NOT NULL, timestamp TEXT NOT NULL,
            text TEXT NOT NULL, completed INTEGER NOT NULL, line INTEGER, path TEXT);
        CREATE INDEX goals_session ON goals(session_id);""",
        ("session.goal",),
        _goal_rows,
    ),
    TableView(
        "observations",
        """CREATE TABLE observations(
            event_id TEXT NOT NULL PRIMARY KEY, session_id TEXT NOT NULL, type TEXT NOT NULL,
            timestamp TEXT NOT NULL, section TEXT NOT NULL, block INTEGER, block_title TEXT,
            text TEXT NOT NULL, line INTEGER, path TEXT);
        CREATE INDEX observations_session ON observations(session_id);
        CREATE INDEX observations_type_time ON observations(type, timestamp);
        CREATE INDEX observations_time ON observations(timestamp);
        CREATE INDEX observations_path ON observations(path);""",
        OBSERVATION_TYPES,
        _observation_rows,
    ),
]
