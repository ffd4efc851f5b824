"""Cross-cutting questions answered from the eventlog: decisions and the commits
around them, and which authors work on the same files.

They read the eventlog itself (the one table every database has), so they work
whichever materializers the recipe enables. Results are plain dicts in a fixed
order (time, then ids), ready for `--json`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import apsw

from kenning.eventlog.events import utc_timestamp
from kenning.materialize.decay import DAY, epoch

CONTEXT_DAYS = 7  # commits this many days before a decision are its context
IMPACT_DAYS = 14  # commits this many days after a decision are its impact
_PATHISH = re.compile(r"[\w.\-/]*[\w\-]\.[\w]+|[\w.\-]+/[\w.\-/]+")


def _decisions(conn: apsw.Connection, limit: int | None) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT event_id, timestamp, source_id, source_file, data ->> 'text' FROM eventlog "
        "WHERE event_type = 'session.decision' ORDER BY seq" + _limit(limit)).fetchall()
    return [{"event_id": eid, "time": ts, "session": sid, "file": sf, "text": text or ""}
            for eid, ts, sid, sf, text in rows]


def _limit(limit: int | None) -> str:
    return f" LIMIT {int(limit)}" if limit is not None and limit >= 0 else ""


def _commits_between(conn: apsw.Connection, start: str, end: str, *,
                     include_start: bool) -> list[dict[str, Any]]:
    low = ">=" if include_start else ">"
    rows = conn.execute(
        "SELECT timestamp, source_id, data ->> 'subject', data ->> '$.author.name', "
        "data ->> '$.author.email', data ->> 'files', data ->> 'is_merge' FROM eventlog "
        f"WHERE event_type = 'git.commit' AND timestamp {low} ? AND timestamp <= ? "
        "ORDER BY seq", (start, end)).fetchall()
    return [{"time": ts, "sha": sha, "subject": subject, "author": name, "email": email,
             "files": sorted(f["path"] for f in json.loads(files or "[]")),
             "is_merge": bool(merge)}
            for ts, sha, subject, name, email, files, merge in rows]


def _shift(timestamp: str, days: int) -> str:
    return utc_timestamp(epoch(timestamp) + days * DAY)


def decisions_context(conn: apsw.Connection, *, days: int = CONTEXT_DAYS,
                      limit: int | None = None) -> list[dict[str, Any]]:
    """Each decision with the commit messages of the `days` before it (up to its time)."""
    out = []
    for d in _decisions(conn, limit):
        commits = _commits_between(conn, _shift(d["time"], -days), d["time"], include_start=True)
        out.append({**d, "commits": [{k: c[k] for k in ("time", "sha", "subject", "author")}
                                     for c in commits]})
    return out


def known_paths(conn: apsw.Connection) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT DISTINCT f.value ->> 'path' FROM eventlog e, json_each(e.data, '$.files') f "
        "WHERE e.event_type = 'git.commit'")}


def named_files(text: str, paths: set[str]) -> list[str]:
    """Repository paths a text names: a whole path, or a path's tail after a `/`."""
    found = set()
    for token in _PATHISH.findall(text):
        token = token.strip("./")
        if not token:
            continue
        if token in paths:
            found.add(token)
            continue
        found.update(p for p in paths if p.endswith("/" + token))
    return sorted(found)


def decision_impact(conn: apsw.Connection, *, days: int = IMPACT_DAYS,
                    limit: int | None = None) -> list[dict[str, Any]]:
    """Each decision that names files, with the commits of the `days` after it touching them.

    Merges are left out: their files repeat the commits they merge."""
    paths = known_paths(conn)
    out = []
    for d in _decisions(conn, None):
        files = named_files(d["text"], paths)
        if not files:
            continue
        wanted = set(files)
        commits = []
        for c in _commits_between(conn, d["time"], _shift(d["time"], days), include_start=False):
            touched = sorted(wanted.intersection(c["files"]))
            if touched and not c["is_merge"]:
                commits.append({"time": c["time"], "sha": c["sha"], "subject": c["subject"],
                                "author": c["author"], "files": touched})
        out.append({**d, "files": files, "commits": commits})
        if limit is not None and len(out) >= limit:
            break
    return out


def collaboration(conn: apsw.Connection, *, limit: int | None = None,
                  examples: int = 5) -> list[dict[str, Any]]:
    """Pairs of authors (by e-mail) who changed the same files, most shared files first.

    For each pair: how many files both changed, each one's commits to those files,
    and the first few shared files by name. Merges are left out."""
    rows = conn.execute("""
        WITH touches AS (
            SELECT DISTINCT e.data ->> '$.author.email' AS author, f.value ->> 'path' AS path,
                   e.event_id AS commit_id
            FROM eventlog e, json_each(e.data, '$.files') f
            WHERE e.event_type = 'git.commit' AND NOT (e.data ->> 'is_merge')),
        per_file AS (SELECT author, path, count(*) AS commits FROM touches GROUP BY 1, 2)
        SELECT a.author, b.author, count(*), sum(a.commits), sum(b.commits),
               json_group_array(a.path)
        FROM per_file a JOIN per_file b ON a.path = b.path AND a.author < b.author
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""" + _limit(limit)).fetchall()
    names = dict(conn.execute("""
        SELECT email, name FROM (
            SELECT data ->> '$.author.email' AS email, data ->> '$.author.name' AS name,
                   row_number() OVER (PARTITION BY data ->> '$.author.email'
                                      ORDER BY seq DESC) AS n
            FROM eventlog WHERE event_type = 'git.commit') WHERE n = 1""").fetchall())
    return [{"author": a, "author_name": names.get(a, ""), "other": b,
             "other_name": names.get(b, ""), "shared_files": n, "author_commits": ca,
             "other_commits": cb, "files": sorted(json.loads(files))[:examples]}
            for a, b, n, ca, cb, files in rows]
