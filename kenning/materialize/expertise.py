"""expertise: who knows which file.

Per author (keyed by e-mail, after `.mailmap`) and file (its current path,
following renames as co_changes does): commits, lines added and removed, first
and last touch, and how recently they worked on it, `recent`: the decayed
commit count, sum over the author's commits of 2^(-age / half_life) with age
measured from the reference time, the newest commit in the log (never the
wall clock).

The `expertise` view ranks people by `score`, how much they did as well as how
recently:

    score = recent + volume_weight * log2(1 + commits) * (1 + ownership)

where ownership is the author's share of all lines added to the file. The
volume term never decays, so an author of many old commits keeps their place:
one commit scores at most 1 + 2 * volume_weight and twenty at least
log2(21) * volume_weight, so at the default weight one recent commit never
outranks eight old ones (nor two recent ones thirty-six). The view also flags
each file's main developer as code-maat does, by lines added: most lines added,
then most commits, then the most recent touch, then the smallest e-mail, so
ties always break the same way.

Merges are skipped: they carry no line counts and repeat their branch's work.

Incremental like co_changes: raw per-(commit, file) rows, per-(file, author)
sums folded in canonical order. The decayed count is kept exactly as a
`decay.Accumulator` integer (any order of arrival gives the same integer), and
stored as its value at the row's last touch; the view decays that to the
reference time, which moves with every new commit, and adds the volume term.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import apsw

from kenning.materialize import decay
from kenning.materialize.base import StoredEvent
from kenning.materialize.co_changes import (
    Commit,
    RenameFollower,
    fill_dirty,
    fold_commits,
    read_commits,
)
from kenning.params import Params, param


@dataclass(frozen=True)
class ExpertiseParams(Params):
    half_life_days: float = param(365.0, "a commit counts half as much towards `recent` after "
                                  "this many days", minimum=decay.MIN_HALF_LIFE_DAYS,
                                  maximum=decay.MAX_HALF_LIFE_DAYS)
    volume_weight: float = param(1.0, "how much what someone did, log2(1 + commits) * "
                                 "(1 + ownership), counts besides `recent`; it never decays, so "
                                 "many old commits outrank one recent one", minimum=0.0,
                                 maximum=1000.0)


_FOLLOWER = RenameFollower("expertise_touches", "expertise_renames")
_COLUMNS = ("path, author, name, commits, lines_added, lines_removed, first_touch, last_touch, "
            "recency, score")


def _half_life(params: ExpertiseParams) -> float:
    return decay.half_life_seconds(params.half_life_days)


@dataclass
class Authorship:
    """One author's record on one file, folded touch by touch in canonical order."""

    name: str
    commits: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    first_touch: str = ""
    last_touch: str = ""
    acc: int = 0
    newest: tuple[str, str, str] = ("", "", "")  # key of the touch that gave `name`

    def fold(self, key: tuple[str, str, str], name: str, added: int, removed: int,
             half_life: float, new_commit: bool) -> None:
        if new_commit:
            self.commits += 1
            self.acc += decay.term(decay.epoch(key[0]), 1, half_life)
        self.lines_added += added
        self.lines_removed += removed
        self.first_touch = min(self.first_touch or key[0], key[0])
        self.last_touch = max(self.last_touch, key[0])
        if key >= self.newest:
            self.newest, self.name = key, name

    def row(self, path: str, author: str, half_life: float) -> tuple[object, ...]:
        score = decay.value(self.acc, decay.epoch(self.last_touch), half_life)
        return (path, author, self.name, self.commits, self.lines_added, self.lines_removed,
                self.first_touch, self.last_touch, decay.encode(self.acc), score)


class ExpertiseMaterializer:
    name = "expertise"
    version = 2  # 2: score adds the volume term; recent is the decayed count
    params_type = ExpertiseParams
    consumes = ("git.commit",)
    incremental = True
    index_after_rebuild = False

    def tables(self) -> tuple[str, ...]:
        return ("expertise_touches", "expertise_renames", "expertise_authorship",
                "expertise", "expertise_main")

    def create(self, conn: apsw.Connection, params: ExpertiseParams) -> None:
        lam = decay.rate(_half_life(params))
        weight = float(params.volume_weight)
        conn.execute(f"""
        CREATE TABLE expertise_touches(event_id TEXT NOT NULL, timestamp TEXT NOT NULL,
            sha TEXT NOT NULL, path TEXT NOT NULL, canonical TEXT NOT NULL,
            author TEXT NOT NULL, name TEXT NOT NULL, lines_added INTEGER NOT NULL,
            lines_removed INTEGER NOT NULL, PRIMARY KEY(event_id, path)) WITHOUT ROWID;
        {_FOLLOWER.ddl()}
        -- score: the decayed commit count as of last_touch; recency: its exact integer form
        CREATE TABLE expertise_authorship(path TEXT NOT NULL, author TEXT NOT NULL,
            name TEXT NOT NULL, commits INTEGER NOT NULL, lines_added INTEGER NOT NULL,
            lines_removed INTEGER NOT NULL, first_touch TEXT NOT NULL, last_touch TEXT NOT NULL,
            recency TEXT NOT NULL, score REAL NOT NULL,
            PRIMARY KEY(path, author)) WITHOUT ROWID;
        CREATE INDEX expertise_authorship_author ON expertise_authorship(author, path);
        CREATE VIEW expertise(path, author, name, commits, lines_added, lines_removed,
                              first_touch, last_touch, recent, score, ownership, is_main) AS
        WITH ranked AS (
            SELECT a.path, a.author, a.name, a.commits, a.lines_added, a.lines_removed,
                   a.first_touch, a.last_touch,
                   a.score * exp(-{lam!r} * ((SELECT unixepoch(max(timestamp))
                                              FROM expertise_touches)
                                             - unixepoch(a.last_touch))) AS recent,
                   CASE WHEN sum(a.lines_added) OVER file > 0
                        THEN 1.0 * a.lines_added / sum(a.lines_added) OVER file END AS ownership,
                   row_number() OVER (file ORDER BY a.lines_added DESC, a.commits DESC,
                                      a.last_touch DESC, a.author) = 1 AS is_main
            FROM expertise_authorship a
            WINDOW file AS (PARTITION BY a.path))
        SELECT path, author, name, commits, lines_added, lines_removed, first_touch, last_touch,
               recent,
               recent + {weight!r} * log2(1 + commits) * (1 + coalesce(ownership, 0)),
               ownership, is_main
        FROM ranked;
        CREATE VIEW expertise_main AS SELECT * FROM expertise WHERE is_main;
        """)

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent],
            params: ExpertiseParams) -> None:
        half_life = _half_life(params)
        commits = read_commits(events, include_merges=False, max_changeset=None)
        pending: dict[tuple[str, str], Authorship] = {}

        def insert_rows(c: Commit) -> None:
            ts, sha, eid = c.key
            conn.executemany("INSERT INTO expertise_touches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [(eid, ts, sha, f["path"], f["path"], *_who(c), *_lines(f))
                              for f in _files(c)])

        def count_newest(c: Commit) -> None:
            author, name = _who(c)
            for f in _files(c):
                key = (f["path"], author)
                if key not in pending:
                    pending[key] = _load(conn, key) or Authorship(name)
                pending[key].fold(c.key, name, *_lines(f), half_life, new_commit=True)

        dirty = fold_commits(conn, _FOLLOWER, commits, insert_rows, count_newest)
        conn.executemany(f"INSERT OR REPLACE INTO expertise_authorship({_COLUMNS}) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [a.row(p, au, half_life) for (p, au), a in sorted(pending.items())
                          if p not in dirty])
        _recount(conn, dirty, half_life)

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: ExpertiseParams) -> bool:
        ids = [e.event_id for e in events if e.event_type == "git.commit"]
        gone = {r[0] for r in conn.execute(
            "SELECT DISTINCT canonical FROM expertise_touches WHERE event_id IN "
            f"({','.join('?' * len(ids))})", ids)} if ids else set()
        _FOLLOWER.delete(conn, ids)
        _recount(conn, gone | _FOLLOWER.rewalk(conn), _half_life(params))
        return True


def _files(c: Commit) -> list[dict]:
    return sorted(c.payload.get("files") or [], key=lambda f: f["path"])


def _who(c: Commit) -> tuple[str, str]:
    author = c.payload.get("author") or {}
    return str(author.get("email") or ""), str(author.get("name") or "")


def _lines(f: dict) -> tuple[int, int]:
    return int(f.get("lines_added") or 0), int(f.get("lines_removed") or 0)


def _load(conn: apsw.Connection, key: tuple[str, str]) -> Authorship | None:
    row = conn.execute(
        "SELECT name, commits, lines_added, lines_removed, first_touch, last_touch, recency "
        "FROM expertise_authorship WHERE path = ? AND author = ?", key).fetchone()
    if row is None:
        return None
    name, commits, added, removed, first, last, recency = row
    # `newest` only orders names: any stored touch is older than a commit being added
    return Authorship(name, commits, added, removed, first, last, decay.decode(recency),
                      (last, "", ""))


def _recount(conn: apsw.Connection, paths: Iterable[str], half_life: float) -> None:
    """Rebuild the rows of these (current) paths from the raw touches."""
    paths = set(paths)
    if not paths:
        return
    fill_dirty(conn, paths)
    records: dict[tuple[str, str], Authorship] = {}
    last_event: dict[tuple[str, str], str] = {}
    for canonical, author, name, ts, sha, eid, added, removed in conn.execute(
            "SELECT canonical, author, name, timestamp, sha, event_id, lines_added, "
            "lines_removed FROM expertise_touches WHERE canonical IN temp.dirty_paths "
            "ORDER BY canonical, author, timestamp, sha, event_id, path"):
        key = (canonical, author)
        record = records.setdefault(key, Authorship(name))
        record.fold((ts, sha, eid), name, added, removed, half_life,
                    new_commit=last_event.get(key) != eid)
        last_event[key] = eid
    conn.execute("DELETE FROM expertise_authorship WHERE path IN temp.dirty_paths")
    conn.executemany(f"INSERT INTO expertise_authorship({_COLUMNS}) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [r.row(p, a, half_life) for (p, a), r in sorted(records.items())])
    conn.execute("DELETE FROM temp.dirty_paths")
