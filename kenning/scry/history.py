"""What happened lately, and one thing shown whole: the decisions and commits since a
date (optionally about one path), one commit by its sha, one decision (or any session
item) in its session's context, one code symbol.

Reads the `documents` table (the fts materializer's) and the `views` tables, never
the vectors, so it answers in milliseconds on any database. Results are plain dicts in
a fixed order (newest first, then ids), ready for JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import apsw

from kenning.errors import KenningError
from kenning.eventlog import reader
from kenning.eventlog.database import dict_rows
from kenning.eventlog.events import utc_timestamp
from kenning.materialize.decay import DAY, epoch
from kenning.scry.filters import Filters, check_limit, where

RECENT_DAYS = 30  # `recent` without `since`: this many days before the newest event
_HEX = re.compile(r"[0-9a-f]{4,64}")
_MAX_MATCHES = 5  # an ambiguous prefix lists this many candidates


@dataclass
class Recent:
    since: str  # as given, or the computed default (UTC)
    until: str | None
    path: str | None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Shown:
    kind: str  # commit | session | code
    item: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _require(conn: apsw.Connection, *tables: str) -> None:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    missing = [t for t in tables if t not in present]
    if missing:
        hint = "fts" if missing[0] == "documents" else "views"
        raise KenningError(f"this database has no {missing[0]} table yet; run "
                           f"`kenning materialize {hint}` (or `kenning scrape`)")




# -- recent ------------------------------------------------------------------------


def recent(conn: apsw.Connection, *, since: str | None = None, until: str | None = None,
           path: str | None = None, limit: int = 10) -> Recent:
    """Decisions (from session notes) and commits from `since` on, newest first; with
    `path`, only those that concern it (a file, a folder or a glob). Without `since`:
    the RECENT_DAYS days before the newest document, not before today, so an old
    repository still has a recent past."""
    _require(conn, "documents")
    check_limit(limit)
    notes = []
    if since is None:
        row = conn.execute("SELECT max(timestamp) FROM documents").fetchone()
        newest = row[0] if row else None
        if newest is None:
            return Recent(since="", until=until, path=path,
                          notes=["the database has no decisions or commits yet"])
        since = utc_timestamp(epoch(str(newest)) - RECENT_DAYS * DAY)
        notes.append(f"since {since[:10]}: the {RECENT_DAYS} days before the newest event "
                     f"({str(newest)[:10]})")
    out = Recent(since=since, until=until, path=path, notes=notes)
    condition, params = where(conn, Filters(since=since, until=until, path=path))
    for name, kind, event_type in (("decisions", "session", "session.decision"),
                                   ("commits", "commit", "git.commit")):
        rows = conn.execute(f"""
            SELECT d.timestamp, d.source, d.author, d.paths, d.title, d.body, d.event_id
            FROM documents d WHERE d.kind = ? AND d.event_type = ? AND {condition}
            ORDER BY d.timestamp DESC, d.event_id LIMIT ?""", [kind, event_type, *params, limit])
        for time, source, author, paths, title, body, event_id in rows:
            if name == "decisions":
                out.decisions.append({"time": time, "session": source, "text": body,
                                      "paths": json.loads(paths), "event_id": event_id})
            else:
                out.commits.append({"time": time, "sha": source, "subject": title,
                                    "author": author, "paths": json.loads(paths),
                                    "event_id": event_id})
    if not (out.decisions or out.commits):
        out.notes.append("no decisions or commits in that time"
                         + (f" concerning {path}" if path else ""))
    return out


# -- show --------------------------------------------------------------------------


def show(conn: apsw.Connection, ref: str) -> Shown:
    """One commit (by a prefix of its sha) or one searchable event (by a prefix of its
    event id, as `scry` and `recent` print it): a commit whole, a decision or other
    session item with its session and the other items of its block, a code symbol."""
    _require(conn, "documents", "commits")
    wanted = ref.strip().lower()
    if not _HEX.fullmatch(wanted):
        raise KenningError(f"cannot show {ref!r}: give a commit sha or an event id (at least "
                           "4 hexadecimal characters), as scry and recent print them")
    upper = wanted + "g"  # every hex string that starts with `wanted` sorts below this
    shas = [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT sha FROM commits WHERE sha >= ? AND sha < ? ORDER BY sha LIMIT ?",
        (wanted, upper, _MAX_MATCHES + 1))]
    events = [(str(e), str(k), str(s)) for e, k, s in conn.execute(
        "SELECT event_id, kind, source FROM documents WHERE event_id >= ? AND event_id < ? "
        "ORDER BY event_id LIMIT ?", (wanted, upper, _MAX_MATCHES + 1))]
    # a commit's own event id names the same commit as its sha
    things = {f"commit {sha}": ("commit", sha) for sha in shas}
    for event_id, kind, source in events:
        key = f"commit {source}" if kind == "commit" else f"{kind} event {event_id}"
        things.setdefault(key, ("commit", source) if kind == "commit" else ("event", event_id))
    if not things:
        raise KenningError(f"no commit or event starts with {wanted!r}; scry and recent "
                           "print the shas and event ids that show accepts")
    if len(things) > 1:
        listed = ", ".join(sorted(things)[:_MAX_MATCHES])
        raise KenningError(f"{wanted!r} is ambiguous ({listed}"
                           f"{', ...' if len(things) > _MAX_MATCHES else ''}); "
                           "give more characters")
    ((what, key),) = things.values()
    return _commit(conn, key) if what == "commit" else _event(conn, key)


def _commit(conn: apsw.Connection, sha: str) -> Shown:
    row = conn.execute("SELECT event_id FROM commits WHERE sha = ? LIMIT 1", (sha,)).fetchone()
    if row is None:
        raise KenningError(f"commit {sha[:12]} is not in the commits table; run "
                           "`kenning materialize views`")
    (event,) = reader.read_events(conn, [str(row[0])])
    tags = [str(r[0]) for r in conn.execute(
        "SELECT name FROM tags WHERE sha = ? ORDER BY name", (sha,))]
    d = event.data
    first = {"sha": d.get("sha"), "time": event.timestamp, "subject": d.get("subject"),
             "body": d.get("body"), "author": d.get("author")}
    return Shown("commit", {**first, **{k: v for k, v in d.items() if k not in first}},
                 {"tags": tags} if tags else {})


def _event(conn: apsw.Connection, event_id: str) -> Shown:
    (event,) = reader.read_events(conn, [event_id])
    if event.event_type.startswith("session."):
        return _session_item(conn, event)
    item = {"event_type": event.event_type, "time": event.timestamp, "path": event.source_file,
            **event.data}
    return Shown("code", item)


def _session_item(conn: apsw.Connection, event: reader.StoredEvent) -> Shown:
    """The item, its session (title, start, branch, note file), the other items of the
    same update block, and the session's goals and decisions."""
    _require(conn, "sessions", "observations", "goals")
    d = event.data
    sid = str(d.get("session_id") or event.source_id)
    item = {"event_type": event.event_type, "time": event.timestamp, "session": sid,
            "text": d.get("text"), "section": d.get("section"),
            "block_title": d.get("block_title"), "note": event.source_file,
            "line": d.get("line"), "event_id": event.event_id}
    sessions = dict_rows(conn, """
        SELECT title, started, branch, path AS note, status, tags FROM sessions
        WHERE session_id = ? ORDER BY started, event_id LIMIT 1""", (sid,))
    session = sessions[0] if sessions else {}
    if session:
        session["tags"] = json.loads(session["tags"])
    context: dict[str, Any] = {"session": {"id": sid, **session}}
    if d.get("block") is not None:
        context["same_block"] = dict_rows(conn, """
            SELECT type, text, line FROM observations
            WHERE session_id = ? AND block = ? AND event_id != ? AND path IS ?
            ORDER BY line, event_id""", (sid, d["block"], event.event_id, event.source_file))
    context["decisions"] = dict_rows(conn, """
        SELECT timestamp AS time, text, line, event_id FROM observations
        WHERE session_id = ? AND type = 'decision' AND event_id != ? AND path IS ?
        ORDER BY line, event_id""", (sid, event.event_id, event.source_file))
    context["goals"] = dict_rows(conn, """
        SELECT text, completed FROM goals WHERE session_id = ? AND path IS ?
        ORDER BY line, event_id""", (sid, event.source_file))
    for goal in context["goals"]:
        goal["completed"] = bool(goal["completed"])
    return Shown("session", item, context)
