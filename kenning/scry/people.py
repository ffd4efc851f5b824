"""Who knows a topic: the experts of the files that answer a question.

`experts_for(conn, files)` ranks people by their expertise in the given files,
each file weighted by how well it answers the question (its share of the
answer). scry calls it for a question about people ("who knows ...").

A person is an author e-mail (after `.mailmap`); their score is the sum over
the files of the file's weight times their `expertise` score there (how much
they did to it as well as how recently, see materialize/expertise.py). Their
name is the one on their newest touch of these files. Ties break by e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import apsw

from kenning.scry.filters import check_limit

_CHUNK = 500  # paths per query: below SQLite's bound on parameters, and `IN (?, ...)`
# lets SQLite read only those files' rows of the view (a json_each list reads them all)


@dataclass
class Person:
    name: str
    author: str  # the e-mail address that identifies them in the history
    score: float
    files: list[str] = field(default_factory=list)  # their files among the answer's, best first
    commits: int = 0  # their commits to these files (a commit to two of them counts twice)
    lines_added: int = 0  # lines they added to these files
    last_touch: str = ""  # their newest change to any of them

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "author": self.author, "score": round(self.score, 6),
                "files": self.files, "commits": self.commits,
                "lines_added": self.lines_added, "last_touch": self.last_touch}


def experts_for(conn: apsw.Connection, files: Sequence[tuple[str, float]],
                limit: int = 10) -> list[Person]:
    """People ranked by expertise over `files` ((path, weight) pairs, best first).

    A path given twice counts once, at its highest weight; weights of zero or less
    count nothing. No expertise view (never materialized, or disabled) -> []."""
    check_limit(limit)
    weights: dict[str, float] = {}
    for path, weight in files:
        if weight > 0:
            weights[path] = max(weight, weights.get(path, 0.0))
    if not weights or not _has_expertise(conn):
        return []
    people: dict[str, Person] = {}
    shares: dict[str, list[tuple[float, str]]] = {}  # author -> (weighted score, path)
    newest: dict[str, tuple[str, str]] = {}  # author -> (last touch, name) of the newest row
    paths = sorted(weights)
    for start in range(0, len(paths), _CHUNK):
        chunk = paths[start:start + _CHUNK]
        for path, author, name, commits, added, last, score in conn.execute(
                "SELECT path, author, name, commits, lines_added, last_touch, score "
                f"FROM expertise WHERE path IN ({','.join('?' * len(chunk))}) "
                "ORDER BY path, author", chunk):  # a fixed order of addition: the same sums
            person = people.setdefault(author, Person(name, author, 0.0))
            part = weights[path] * score
            person.score += part
            person.commits += commits
            person.lines_added += added
            shares.setdefault(author, []).append((part, path))
            newest[author] = max(newest.get(author, ("", "")), (last, name))
    for author, person in people.items():
        person.last_touch, person.name = newest[author]
        person.files = [p for _, p in sorted(shares[author], key=lambda s: (-s[0], s[1]))]
    ranked = sorted(people.values(), key=lambda p: (-p.score, p.author))
    return ranked[:limit]


def _has_expertise(conn: apsw.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'expertise'").fetchone() \
        is not None
