"""`kenning verify`: rebuild the eventlog from nothing and compare it with the stored one.

With `--all`, the rebuild also runs every materializer the stored database has built
(same recipe), and each materialized table is compared by its digest, naming the
first differing row (kenning.materialize.digest).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import apsw

from kenning.errors import KenningError
from kenning.eventlog import database, state
from kenning.eventlog.digest import Difference, digest, first_difference
from kenning.materialize.digest import (
    RowDifference,
    TableDigest,
    first_row_difference,
    table_digests,
)
from kenning.materialize.engine import freshness, materialize
from kenning.recipes import Recipe, load_recipe
from kenning.repository.gitrepo import GitRepo
from kenning.repository.timespec import Until
from kenning.scrapers import SCRAPERS
from kenning.scrapers.base import ScrapeOptions
from kenning.scrapers.engine import scrape


@dataclass(frozen=True)
class TableComparison:
    table: str
    stored: TableDigest | None
    rebuilt: TableDigest | None
    difference: RowDifference | None  # the first differing row, when they differ

    @property
    def ok(self) -> bool:
        return (self.stored is not None and self.rebuilt is not None
                and self.stored.sha256 == self.rebuilt.sha256)


@dataclass(frozen=True)
class VerifyResult:
    stored: str
    rebuilt: str
    difference: Difference | None
    tables: tuple[TableComparison, ...] = ()  # with all_tables

    @property
    def ok(self) -> bool:
        return self.stored == self.rebuilt and all(t.ok for t in self.tables)


def verify(repo: GitRepo, db_path: Path, *, all_tables: bool = False,
           recipe: Recipe | None = None) -> VerifyResult:
    conn = database.connect(db_path, write=False)
    scraped = state.read(conn)
    target, fingerprint = scraped.target, scraped.options
    if not target or fingerprint is None:
        raise KenningError(f"{db_path} holds no scrape to verify; run `kenning scrape` first")
    if not scraped.reproducible:
        raise KenningError("this eventlog includes uncommitted files (--worktree); "
                           "it cannot be reproduced, so there is nothing to verify")
    options = ScrapeOptions.from_fingerprint(fingerprint)
    cutoff = scraped.cutoff
    if all_tables:
        recipe = recipe or load_recipe(repo.root)
        built = _built_materializers(conn, recipe)
    with tempfile.TemporaryDirectory(prefix="kenning-verify-") as tmp:
        fresh_path = Path(tmp) / "rebuilt.db"
        if repo.resolve_commit(target) is None:
            raise KenningError(f"the stored target {target[:12]} is not in this repository")
        names = [n for n in SCRAPERS if n in scraped.targets]
        scrape(repo, fresh_path, at=Until(target, cutoff), options=options, scrapers=names)
        fresh = database.connect(fresh_path, write=False)
        ours, theirs = digest(conn), digest(fresh)
        diff = None if ours.sha256 == theirs.sha256 else first_difference(conn, fresh)
        tables: tuple[TableComparison, ...] = ()
        if all_tables and recipe is not None:
            if built:
                fresh.close()
                materialize(fresh_path, recipe, built)
                fresh = database.connect(fresh_path, write=False)
            tables = _compare_tables(conn, fresh)
        fresh.close()
    return VerifyResult(ours.sha256, theirs.sha256, diff, tables)


def _built_materializers(conn: apsw.Connection, recipe: Recipe) -> list[str]:
    """The materializers the stored database has built; each must be fresh, or the
    comparison would only show that it is behind."""
    built = []
    for f in freshness(conn, recipe):
        if f.state == "stale" and f.reason != "never built":
            raise KenningError(f"materializer {f.name} is stale ({f.reason}); run "
                               "`kenning materialize` before `kenning verify --all`")
        if f.state == "fresh":
            built.append(f.name)
    return built


def _compare_tables(ours: apsw.Connection, theirs: apsw.Connection
                    ) -> tuple[TableComparison, ...]:
    stored = {t.table: t for t in table_digests(ours)}
    rebuilt = {t.table: t for t in table_digests(theirs)}
    names = list(stored) + [t for t in rebuilt if t not in stored]
    result = []
    for table in names:
        a, b = stored.get(table), rebuilt.get(table)
        same = a is not None and b is not None and a.sha256 == b.sha256
        diff = (first_row_difference(ours, theirs, table)
                if a is not None and b is not None and not same else None)
        result.append(TableComparison(table, a, b, diff))
    return tuple(result)
