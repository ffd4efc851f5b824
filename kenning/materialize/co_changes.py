"""co_changes: file pairs that change together (code-maat's logical coupling).

For every pair of files: the revisions they share, each file's revisions,
degree = shared / mean(revisions of both) x 100, and the first and last time
they changed together. Commits touching more than `max_changeset` files are
ignored (bulk reformatting couples everything with everything), merges are
skipped unless `include_merges` (their files repeat the branch's commits), and
the `co_changes` view keeps the pairs whose mean revisions, shared revisions
and degree reach the thresholds.

Rename-aware: every revision is counted under its file's *current* path, the
path it has after all later renames (walk history newest to oldest; a rename
old -> new makes older revisions of `old` count as whatever `new` counts as).
A path reused after a rename starts a new history.

Incremental, with raw per-revision rows: the rename mapping and the thresholds
are global, but counting is not. So the tables keep one raw row per (commit,
file) with its current path (`canonical`), plain per-file and per-pair counts
without thresholds, and a view applies the thresholds (a threshold change in the
recipe rebuilds anyway). A commit newer than everything stored only adds counts;
its renames re-point older raw rows and the files they touch are recounted from
the raw rows. A commit older than something stored (a merged old branch) or a
removal re-walks the renames over all raw rows and recounts what moved. Every
count is an integer or a timestamp, so the result is the same as a rebuild's
whatever the arrival order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import apsw

from kenning.materialize.base import StoredEvent
from kenning.params import Params, param


@dataclass(frozen=True)
class CoChangesParams(Params):
    max_changeset: int = param(30, "commits touching more files than this are ignored",
                               above=0)
    min_revisions: int = param(5, "the pair's mean revisions at least this (as code-maat)",
                               minimum=0)
    min_shared: int = param(5, "the pair changed together at least this often", minimum=0)
    min_degree: float = param(30.0, "shared / mean(revisions) x 100, at least this",
                              minimum=0, maximum=100)
    include_merges: bool = param(False, "count merge commits too (their files repeat "
                                 "the branch's commits)")


CommitKey = tuple[str, str, str]  # (timestamp, sha, event_id): canonical order of git.commit


@dataclass(frozen=True)
class Commit:
    """What the rename-following tables need from one git.commit event."""

    key: CommitKey
    paths: tuple[str, ...]  # files it touches, as named in that commit (sorted)
    renames: tuple[tuple[str, str], ...]  # (old_path, new_path)
    counted: bool  # its files count (not a skipped merge, not an oversized changeset)
    payload: dict[str, Any]

    @property
    def event_id(self) -> str:
        return self.key[2]


def read_commits(events: Iterable[StoredEvent], *, include_merges: bool,
                 max_changeset: int | None) -> list[Commit]:
    """git.commit events as Commits, in canonical order."""
    commits = []
    for e in events:
        if e.event_type != "git.commit":
            continue
        data = e.data
        merge = bool(data.get("is_merge"))
        if merge and not include_merges:
            continue
        files = data.get("files") or []
        paths = tuple(sorted({f["path"] for f in files}))
        renames = tuple(sorted((f["old_path"], f["path"]) for f in files
                               if f.get("change_type") == "R" and f.get("old_path")))
        counted = max_changeset is None or len(paths) <= max_changeset
        commits.append(Commit((e.timestamp, e.source_id, e.event_id), paths, renames,
                              counted, data))
    commits.sort(key=lambda c: c.key)
    return commits


@dataclass(frozen=True)
class RenameFollower:
    """Keeps `canonical` of a raw table right, given the renames in another.

    `revisions` has columns (event_id, timestamp, sha, path, canonical);
    `renames` has (event_id, timestamp, sha, old_path, new_path).
    """

    revisions: str
    renames: str

    def ddl(self) -> str:
        r, n = self.revisions, self.renames
        return f"""
        CREATE TABLE {n}(event_id TEXT NOT NULL, timestamp TEXT NOT NULL, sha TEXT NOT NULL,
            old_path TEXT NOT NULL, new_path TEXT NOT NULL,
            PRIMARY KEY(event_id, new_path)) WITHOUT ROWID;
        CREATE INDEX {n}_order ON {n}(timestamp, sha, event_id);
        CREATE INDEX {r}_canonical ON {r}(canonical, event_id);
        CREATE INDEX {r}_order ON {r}(timestamp, sha, event_id);
        """

    def newest(self, conn: apsw.Connection) -> CommitKey | None:
        row = conn.execute(
            f"SELECT timestamp, sha, event_id FROM (SELECT timestamp, sha, event_id FROM "
            f"{self.revisions} UNION ALL SELECT timestamp, sha, event_id FROM {self.renames}) "
            "ORDER BY timestamp DESC, sha DESC, event_id DESC LIMIT 1").fetchone()
        return (row[0], row[1], row[2]) if row else None

    def insert_renames(self, conn: apsw.Connection, commit: Commit) -> None:
        ts, sha, eid = commit.key
        conn.executemany(f"INSERT INTO {self.renames} VALUES (?, ?, ?, ?, ?)",
                         [(eid, ts, sha, old, new) for old, new in commit.renames])

    def apply_newest(self, conn: apsw.Connection, commit: Commit) -> set[str]:
        """Apply the renames of a commit newer than every stored row; the paths touched."""
        moved: set[str] = set()
        for old, new in commit.renames:
            hit = conn.execute(
                f"SELECT 1 FROM {self.revisions} WHERE canonical = ? AND event_id != ? LIMIT 1",
                (old, commit.event_id)).fetchone()
            if hit:
                conn.execute(f"UPDATE {self.revisions} SET canonical = ? "
                             "WHERE canonical = ? AND event_id != ?", (new, old, commit.event_id))
                moved.update((old, new))
        return moved

    def rewalk(self, conn: apsw.Connection) -> set[str]:
        """Recompute every row's canonical path from all renames; the paths touched."""
        renames: dict[str, list[tuple[str, str]]] = {}
        keys: set[CommitKey] = set()
        for eid, ts, sha, old, new in conn.execute(
                f"SELECT event_id, timestamp, sha, old_path, new_path FROM {self.renames}"):
            renames.setdefault(eid, []).append((old, new))
            keys.add((ts, sha, eid))
        rows: dict[str, list[tuple[str, str]]] = {}
        for eid, ts, sha, path, canonical in conn.execute(
                f"SELECT event_id, timestamp, sha, path, canonical FROM {self.revisions}"):
            rows.setdefault(eid, []).append((path, canonical))
            keys.add((ts, sha, eid))
        alias: dict[str, str] = {}
        changes: list[tuple[str, str, str]] = []
        moved: set[str] = set()
        for _ts, _sha, eid in sorted(keys, reverse=True):  # newest first
            for path, canonical in rows.get(eid, ()):
                now = alias.get(path, path)
                if now != canonical:
                    changes.append((now, eid, path))
                    moved.update((now, canonical))
            for old, new in sorted(renames.get(eid, ())):
                alias[old] = alias.get(new, new)
        conn.executemany(f"UPDATE {self.revisions} SET canonical = ? "
                         "WHERE event_id = ? AND path = ?", changes)
        return moved

    def delete(self, conn: apsw.Connection, event_ids: Sequence[str]) -> None:
        for table in (self.revisions, self.renames):
            conn.executemany(f"DELETE FROM {table} WHERE event_id = ?",
                             [(e,) for e in event_ids])


def fold_commits(conn: apsw.Connection, follower: RenameFollower, commits: Sequence[Commit],
                 insert_rows: Any, count_newest: Any) -> set[str]:
    """The shared add() of the rename-aware materializers.

    `insert_rows(commit)` writes a commit's raw rows (canonical = path);
    `count_newest(commit)` adds its counts when it is newer than everything.
    Returns the canonical paths whose counts must be recomputed from raw rows.
    """
    if not commits:
        return set()
    newest = follower.newest(conn)
    in_order = newest is None or commits[0].key > newest
    dirty: set[str] = set()
    for commit in commits:
        if commit.counted:
            insert_rows(commit)
        follower.insert_renames(conn, commit)
        if in_order:
            if commit.counted:
                count_newest(commit)
            dirty |= follower.apply_newest(conn, commit)
        elif commit.counted:
            dirty.update(commit.paths)
    if not in_order:
        dirty |= follower.rewalk(conn)
    return dirty


def fill_dirty(conn: apsw.Connection, paths: Iterable[str]) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS dirty_paths(path TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.dirty_paths")
    conn.executemany("INSERT INTO temp.dirty_paths VALUES (?)", [(p,) for p in sorted(paths)])


# -- the materializer ------------------------------------------------------------------

_FOLLOWER = RenameFollower("co_change_revisions", "co_change_renames")


class CoChangesMaterializer:
    name = "co_changes"
    version = 1
    params_type = CoChangesParams
    consumes = ("git.commit",)
    incremental = True
    index_after_rebuild = False

    def tables(self) -> tuple[str, ...]:
        return ("co_change_revisions", "co_change_renames", "co_change_files",
                "co_change_pairs", "co_changes")

    def create(self, conn: apsw.Connection, params: CoChangesParams) -> None:
        conn.execute(f"""
        CREATE TABLE co_change_revisions(event_id TEXT NOT NULL, timestamp TEXT NOT NULL,
            sha TEXT NOT NULL, path TEXT NOT NULL, canonical TEXT NOT NULL,
            PRIMARY KEY(event_id, path)) WITHOUT ROWID;
        {_FOLLOWER.ddl()}
        CREATE TABLE co_change_files(path TEXT PRIMARY KEY, revisions INTEGER NOT NULL,
            first_time TEXT NOT NULL, last_time TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE co_change_pairs(path_a TEXT NOT NULL, path_b TEXT NOT NULL,
            shared INTEGER NOT NULL, first_time TEXT NOT NULL, last_time TEXT NOT NULL,
            PRIMARY KEY(path_a, path_b), CHECK(path_a < path_b)) WITHOUT ROWID;
        CREATE INDEX co_change_pairs_b ON co_change_pairs(path_b, path_a);
        -- one row per direction, so `WHERE path = ?` finds every partner
        CREATE VIEW co_changes(path, coupled, shared, revisions, coupled_revisions, degree,
                               first_together, last_together) AS
        SELECT d.path, d.coupled, d.shared, fa.revisions, fb.revisions,
               round(200.0 * d.shared / (fa.revisions + fb.revisions), 2),
               d.first_time, d.last_time
        FROM (SELECT path_a AS path, path_b AS coupled, shared, first_time, last_time
              FROM co_change_pairs
              UNION ALL
              SELECT path_b, path_a, shared, first_time, last_time FROM co_change_pairs) d
        JOIN co_change_files fa ON fa.path = d.path
        JOIN co_change_files fb ON fb.path = d.coupled
        WHERE d.shared >= {params.min_shared}
          AND fa.revisions + fb.revisions >= {2 * params.min_revisions}
          AND 200.0 * d.shared >= {params.min_degree!r} * (fa.revisions + fb.revisions);
        """)

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent],
            params: CoChangesParams) -> None:
        commits = read_commits(events, include_merges=params.include_merges,
                               max_changeset=params.max_changeset)

        def insert_rows(c: Commit) -> None:
            ts, sha, eid = c.key
            conn.executemany("INSERT INTO co_change_revisions VALUES (?, ?, ?, ?, ?)",
                             [(eid, ts, sha, p, p) for p in c.paths])

        def count_newest(c: Commit) -> None:
            ts = c.key[0]
            conn.executemany(
                "INSERT INTO co_change_files VALUES (?, 1, ?, ?) ON CONFLICT(path) DO UPDATE "
                "SET revisions = revisions + 1, first_time = min(first_time, excluded.first_time),"
                " last_time = max(last_time, excluded.last_time)",
                [(p, ts, ts) for p in c.paths])
            conn.executemany(
                "INSERT INTO co_change_pairs VALUES (?, ?, 1, ?, ?) ON CONFLICT DO UPDATE "
                "SET shared = shared + 1, first_time = min(first_time, excluded.first_time),"
                " last_time = max(last_time, excluded.last_time)",
                [(a, b, ts, ts) for a, b in itertools.combinations(c.paths, 2)])

        dirty = fold_commits(conn, _FOLLOWER, commits, insert_rows, count_newest)
        _recount(conn, dirty)

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: CoChangesParams) -> bool:
        ids = [e.event_id for e in events if e.event_type == "git.commit"]
        gone = {r[0] for r in conn.execute(
            "SELECT DISTINCT canonical FROM co_change_revisions WHERE event_id IN "
            f"({','.join('?' * len(ids))})", ids)} if ids else set()
        _FOLLOWER.delete(conn, ids)
        _recount(conn, gone | _FOLLOWER.rewalk(conn))
        return True


def _recount(conn: apsw.Connection, paths: set[str]) -> None:
    """Recount files and pairs that involve `paths`, from the raw rows."""
    if not paths:
        return
    fill_dirty(conn, paths)
    conn.execute("""
    DELETE FROM co_change_files WHERE path IN temp.dirty_paths;
    INSERT INTO co_change_files
        SELECT canonical, count(DISTINCT event_id), min(timestamp), max(timestamp)
        FROM co_change_revisions WHERE canonical IN temp.dirty_paths GROUP BY canonical;
    DELETE FROM co_change_pairs
        WHERE path_a IN temp.dirty_paths OR path_b IN temp.dirty_paths;
    INSERT INTO co_change_pairs
        SELECT min(a.canonical, b.canonical), max(a.canonical, b.canonical),
               count(DISTINCT a.event_id), min(a.timestamp), max(a.timestamp)
        FROM co_change_revisions a JOIN co_change_revisions b
             ON b.event_id = a.event_id AND b.canonical != a.canonical
        WHERE a.canonical IN temp.dirty_paths
          AND (a.canonical < b.canonical OR b.canonical NOT IN temp.dirty_paths)
        GROUP BY 1, 2;
    DELETE FROM temp.dirty_paths;
    """)
