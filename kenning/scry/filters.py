"""The filters of `kenning scry`, as one SQL condition over `documents d`.

Every search arm applies the same condition inside its own query, so filters
cut the candidates before the top-k, never after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import apsw

from kenning.errors import KenningError
from kenning.eventlog.events import utc_timestamp
from kenning.repository.timespec import read_time

KINDS = ("commit", "session", "code")
_KIND_ALIASES = {"commit": "commit", "commits": "commit", "git": "commit",
                 "session": "session", "sessions": "session", "code": "code"}
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Filters:
    types: tuple[str, ...] = ()  # kinds or exact event types
    since: str | None = None  # as typed by the user
    until: str | None = None
    author: str | None = None
    path: str | None = None
    exclude_sources: tuple[str, ...] = field(default=())  # eval: hide the source commit

    def is_empty(self) -> bool:
        return (not (self.types or self.author or self.path or self.exclude_sources)
                and self.since is None and self.until is None)


MAX_LIMIT = 10_000


def check_limit(limit: int) -> int:
    """How many results a search or report may ask for."""
    if not 1 <= limit <= MAX_LIMIT:
        raise KenningError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


def _time_bound(text: str, option: str, *, end: bool) -> str:
    return utc_timestamp(read_time(text, end=end, option=option))


def known_event_types(conn: apsw.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT event_type FROM documents ORDER BY 1")]


def where(conn: apsw.Connection, filters: Filters) -> tuple[str, list[Any]]:
    """`(sql, params)`: a condition on the alias `d` (the documents table)."""
    clauses: list[str] = []
    params: list[Any] = []
    if filters.types:
        kinds, exact = _split_types(conn, filters.types)
        parts = []
        if kinds:
            parts.append(f"d.kind IN ({','.join('?' * len(kinds))})")
            params.extend(kinds)
        if exact:
            parts.append(f"d.event_type IN ({','.join('?' * len(exact))})")
            params.extend(exact)
        clauses.append("(" + " OR ".join(parts) + ")")
    # an empty value is an error (read_time says so), never silently no filter
    if filters.since is not None:
        clauses.append("d.timestamp >= ?")
        params.append(_time_bound(filters.since, "--since", end=False))
    if filters.until is not None:
        clauses.append("d.timestamp <= ?")
        params.append(_time_bound(filters.until, "--until", end=True))
    if filters.author is not None:
        if not filters.author.strip():
            raise KenningError("--author needs a name (or a part of one)")
        clauses.append("instr(lower(coalesce(d.author, '')), lower(?)) > 0")
        params.append(filters.author)
    if filters.path:
        sql, values = path_condition("p.value", filters.path)
        clauses.append(f"EXISTS (SELECT 1 FROM json_each(d.paths) p WHERE {sql})")
        params.extend(values)
    if filters.exclude_sources:
        clauses.append(f"d.source NOT IN ({','.join('?' * len(filters.exclude_sources))})")
        params.extend(filters.exclude_sources)
    return (" AND ".join(clauses) or "1"), params


def _split_types(conn: apsw.Connection, types: tuple[str, ...]) -> tuple[list[str], list[str]]:
    kinds: list[str] = []
    exact: list[str] = []
    present: list[str] | None = None
    for raw in types:
        name = raw.strip()
        if name.lower() in _KIND_ALIASES:
            kinds.append(_KIND_ALIASES[name.lower()])
            continue
        if present is None:
            present = known_event_types(conn)
        if name in present or (name.split(".", 1)[0] in ("git", "session", "code")
                                and "." in name and name.split(".", 1)[1].isidentifier()):
            exact.append(name)
            continue
        examples = ", ".join(present[:6]) or "git.commit, session.decision, code.function"
        raise KenningError(f"unknown --type {raw!r}; use session, commit, code or an event "
                           f"type such as {examples}")
    return sorted(set(kinds)), sorted(set(exact))


def path_condition(column: str, pattern: str) -> tuple[str, list[Any]]:
    """`(sql, params)` matching the repository path in `column`: a glob when `pattern`
    has glob characters; else the path itself or a folder holding it ("." is the whole
    repository). Every `--path` option means the same through this one function."""
    pattern = pattern.strip().removeprefix("./")
    if _GLOB_CHARS & set(pattern):
        return f"{column} GLOB ?", [pattern]
    folder = pattern.rstrip("/")
    if folder in ("", "."):
        return "1", []
    return (f"({column} = ? OR substr({column}, 1, ?) = ?)",
            [folder, len(folder) + 1, folder + "/"])
