"""Cross-cutting questions answered from the eventlog: decisions and the commits
around them, and which authors work on the same files.

They read the eventlog itself (the one table every database has), so they work
whichever materializers the recipe enables. Results are plain dicts in a fixed
order (time, then ids), ready for `--json`.
"""

from __future__ import annotations

import re
from typing import Any

import apsw

from kenning.eventlog import reader
from kenning.eventlog.events import utc_timestamp
from kenning.eventlog.reader import StoredEvent
from kenning.materialize.decay import DAY, epoch

CONTEXT_DAYS = 7  # commits this many days before a decision are its context
IMPACT_DAYS = 14  # commits this many days after a decision are its impact
_PATHISH = re.compile(r"[\w.\-/]*[\w\-]\.[\w]+|[\w.\-]+/[\w.\-/]+")


def _decisions(conn: apsw.Connection, limit: int | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for e in reader.events(conn, ("session.decision",)):
        if limit is not None and len(found) >= limit:
            break
        found.append({"event_id": e.event_id, "time": e.timestamp, "session": e.source_id,
                      "file": e.source_file, "text": str(e.data.get("text") or "")})
    return found


def _commit(e: StoredEvent) -> dict[str, Any]:
    author = e.data.get("author") or {}
    return {"time": e.timestamp, "sha": e.source_id, "subject": e.data.get("subject"),
            "author": author.get("name"), "email": author.get("email"),
            "files": sorted(f["path"] for f in e.data.get("files") or []),
            "is_merge": bool(e.data.get("is_merge"))}


def _commits_between(conn: apsw.Connection, start: str, end: str, *,
                     include_start: bool) -> list[dict[str, Any]]:
    return [_commit(e) for e in reader.events(conn, ("git.commit",), since=start, until=end)
            if include_start or e.timestamp > start]


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
    return {f["path"] for e in reader.events(conn, ("git.commit",))
            for f in e.data.get("files") or []}


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
    and the first few shared files by name. Merges are left out; an author's name is
    the one on their latest commit."""
    commits: dict[tuple[str, str], int] = {}  # (author, path) -> commits
    names: dict[str, str] = {}
    for e in reader.events(conn, ("git.commit",)):
        author = e.data.get("author") or {}
        email = str(author.get("email") or "")
        names[email] = str(author.get("name") or "")
        if e.data.get("is_merge"):
            continue
        for path in {f["path"] for f in e.data.get("files") or []}:
            commits[(email, path)] = commits.get((email, path), 0) + 1
    by_path: dict[str, list[str]] = {}
    for email, path in commits:
        by_path.setdefault(path, []).append(email)
    pairs: dict[tuple[str, str], list[str]] = {}
    for path, authors in by_path.items():
        ordered = sorted(authors)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                pairs.setdefault((a, b), []).append(path)
    ranked = sorted(pairs.items(), key=lambda item: (-len(item[1]), item[0]))
    if limit is not None:
        ranked = ranked[:max(limit, 0)]
    return [{"author": a, "author_name": names.get(a, ""), "other": b,
             "other_name": names.get(b, ""), "shared_files": len(files),
             "author_commits": sum(commits[(a, p)] for p in files),
             "other_commits": sum(commits[(b, p)] for p in files),
             "files": sorted(files)[:examples]}
            for (a, b), files in ranked]
