"""co_changes against fixtures/cochange.py, whose numbers are worked out by hand below."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import apsw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures import cochange
from kenning.materialize.base import StoredEvent
from kenning.materialize.co_changes import CoChangesMaterializer, CoChangesParams
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import scrape
from tests import materializer_helpers as helpers
from tests.materializer_helpers import build_shuffled, cochange_log

D = "2024-03-{:02d}T12:00:00Z".format


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[StoredEvent]:
    return cochange_log(tmp_path_factory.mktemp("cochange"))


def build(events: list[StoredEvent], params: CoChangesParams | dict[str, Any]) -> apsw.Connection:
    return helpers.build(CoChangesMaterializer(), events, params)


def rows(conn: apsw.Connection, table: str) -> list[tuple[Any, ...]]:
    return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


# Revisions per file, default parameters (merges skipped, BIG has 31 files > 30: ignored):
#   a.py     C1 C2 C3 C4 C5 C7 C8 C9           = 8   (01 .. 11)
#   b.py     C1 C2 C3 C4 C6 C7 C9              = 7   (01 .. 11)
#   new.py   C1 C2 C4 C5 (as old.py) C6 C7     = 6   (01 .. 08)   rename followed
#   old.py   C13 (a new file at the old name)  = 1   (17)         its own history
#   lib/f.py E1 E2 (as lib/e.py) F1            = 3   (06 .. 16)   renamed inside BIG, still followed
#   c.py     S1 C12                            = 2   (09 .. 15)   the merge M is skipped
#   d.py     S1 C12 C13                        = 3   (09 .. 17)
#   g.py     C8                                = 1   (10)
FILES = [
    ("a.py", 8, D(1), D(11)),
    ("b.py", 7, D(1), D(11)),
    ("c.py", 2, D(9), D(15)),
    ("d.py", 3, D(9), D(17)),
    ("g.py", 1, D(10), D(10)),
    ("lib/f.py", 3, D(6), D(16)),
    ("new.py", 6, D(1), D(8)),
    ("old.py", 1, D(17), D(17)),
]
# Shared revisions per pair:
#   a.py b.py    C1 C2 C3 C4 C7 C9   = 6  (01 .. 11)
#   a.py new.py  C1 C2 C4 C5 C7      = 5  (01 .. 08)
#   b.py new.py  C1 C2 C4 C6 C7      = 5  (01 .. 08)
#   c.py d.py    S1 C12              = 2  (09 .. 15)
#   a.py g.py    C8                  = 1
#   d.py old.py  C13                 = 1
PAIRS = [
    ("a.py", "b.py", 6, D(1), D(11)),
    ("a.py", "g.py", 1, D(10), D(10)),
    ("a.py", "new.py", 5, D(1), D(8)),
    ("b.py", "new.py", 5, D(1), D(8)),
    ("c.py", "d.py", 2, D(9), D(15)),
    ("d.py", "old.py", 1, D(17), D(17)),
]
# Degree = shared / mean(revisions) x 100, rounded to 2 places:
#   a.py b.py    6 / ((8 + 7) / 2) = 6 / 7.5 = 80.00
#   a.py new.py  5 / ((8 + 6) / 2) = 5 / 7   = 71.43
#   b.py new.py  5 / ((7 + 6) / 2) = 5 / 6.5 = 76.92
#   c.py d.py    2 / ((2 + 3) / 2) = 2 / 2.5 = 80.00 (but mean revisions 2.5 < 5, shared 2 < 5)
AB = ("a.py", "b.py", 6, 8, 7, 80.0, D(1), D(11))
AN = ("a.py", "new.py", 5, 8, 6, 71.43, D(1), D(8))
BN = ("b.py", "new.py", 5, 7, 6, 76.92, D(1), D(8))
CD = ("c.py", "d.py", 2, 2, 3, 80.0, D(9), D(15))


def both_ways(*pairs: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    out = []
    for path, other, shared, revs, other_revs, degree, first, last in pairs:
        out.append((path, other, shared, revs, other_revs, degree, first, last))
        out.append((other, path, shared, other_revs, revs, degree, first, last))
    return sorted(out, key=repr)


def test_every_count_with_the_defaults(events: list[StoredEvent]) -> None:
    conn = build(events, {})
    assert rows(conn, "co_change_files") == FILES
    assert rows(conn, "co_change_pairs") == PAIRS
    # defaults: mean revisions >= 5, shared >= 5, degree >= 30
    assert rows(conn, "co_changes") == both_ways(AB, AN, BN)


def test_renamed_file_keeps_its_history(events: list[StoredEvent]) -> None:
    conn = build(events, {})
    canon = sorted(set(conn.execute(
        "SELECT path, canonical FROM co_change_revisions WHERE path != canonical").fetchall()))
    # C1 C2 C4 C5 touched old.py before C6 renamed it; E1 E2 touched lib/e.py before BIG
    assert canon == [("lib/e.py", "lib/f.py"), ("old.py", "new.py")]
    assert conn.execute("SELECT count(*) FROM co_change_revisions WHERE path = 'old.py' "
                        "AND canonical = 'old.py'").fetchone() == (1,)  # only C13


@pytest.mark.parametrize(("params", "expected"), [
    # 80.00 and 76.92 reach 75; 71.43 does not
    ({"min_degree": 75}, [AB, BN]),
    # mean revisions: a/b 7.5, a/new 7, b/new 6.5 -> only 6.5 falls below 7
    ({"min_revisions": 7}, [AB, AN]),
    # shared: a/b 6, the others 5
    ({"min_shared": 6}, [AB]),
    # c/d: shared 2 >= 2, mean revisions 2.5 >= 2, degree 80; a/g and d/old share only 1
    ({"min_shared": 2, "min_revisions": 2}, [AB, AN, BN, CD]),
    # ... but c/d needs mean revisions 2.5, so 3 drops it again
    ({"min_shared": 2, "min_revisions": 3}, [AB, AN, BN]),
])
def test_thresholds(events: list[StoredEvent], params: dict[str, Any],
                    expected: list[tuple[Any, ...]]) -> None:
    conn = build(events, params)
    assert rows(conn, "co_changes") == both_ways(*expected)
    assert rows(conn, "co_change_pairs") == PAIRS  # raw counts never depend on thresholds


def test_max_changeset_admits_the_big_commit(events: list[StoredEvent]) -> None:
    conn = build(events, {"max_changeset": 31})
    files = dict((r[0], r[1:]) for r in rows(conn, "co_change_files"))
    # BIG (day 13) now counts: a.py 8+1, b.py 7+1, lib/f.py 3+1 (as the renamed file),
    # and each of the 28 generated files once
    assert files["a.py"] == (9, D(1), D(13))
    assert files["b.py"] == (8, D(1), D(13))
    assert files["lib/f.py"] == (4, D(6), D(16))
    assert files["gen/00.txt"] == (1, D(13), D(13))
    assert len(files) == 8 + 28
    view = {(r[0], r[1]): r for r in rows(conn, "co_changes")}
    # a/b: shared 6+1 = 7, degree 7 / ((9 + 8) / 2) = 7 / 8.5 = 82.35
    assert view[("a.py", "b.py")] == ("a.py", "b.py", 7, 9, 8, 82.35, D(1), D(13))
    # a/new: 5 / ((9 + 6) / 2) = 5 / 7.5 = 66.67; b/new: 5 / ((8 + 6) / 2) = 5 / 7 = 71.43
    assert view[("a.py", "new.py")] == ("a.py", "new.py", 5, 9, 6, 66.67, D(1), D(8))
    assert view[("b.py", "new.py")] == ("b.py", "new.py", 5, 8, 6, 71.43, D(1), D(8))
    # generated files pair with each other once: 1 revision each, below every threshold
    assert len(view) == 6
    (n,) = conn.execute("SELECT count(*) FROM co_change_pairs").fetchone()
    # BIG's 31 files make 31 * 30 / 2 = 465 pairs, all new but a/b: 6 + 464
    assert n == len(PAIRS) + 31 * 30 // 2 - 1


def test_merges_counted_when_asked(events: list[StoredEvent]) -> None:
    conn = build(events, {"include_merges": True, "min_shared": 3, "min_revisions": 3})
    files = dict((r[0], r[1:]) for r in rows(conn, "co_change_files"))
    # M (day 14) carries c.py and d.py against its first parent
    assert files["c.py"] == (3, D(9), D(15))
    assert files["d.py"] == (4, D(9), D(17))
    # c/d: S1 M C12 = 3 shared, 3 / ((3 + 4) / 2) = 3 / 3.5 = 85.71
    assert ("c.py", "d.py", 3, 3, 4, 85.71, D(9), D(15)) in rows(conn, "co_changes")


def snapshot(conn: apsw.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: rows(conn, t) for t in CoChangesMaterializer().tables()}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_arrival_order_and_removals_equal_a_rebuild(events: list[StoredEvent],
                                                        seed: int) -> None:
    params = CoChangesParams(min_shared=1, min_revisions=1, min_degree=0)
    expected = snapshot(build(events, params))
    rnd = random.Random(seed)
    m = CoChangesMaterializer()
    conn = build_shuffled(m, events, params, rnd, 5)
    gone = rnd.sample(events, rnd.randint(1, 6))
    assert m.remove(conn, gone, params) is True
    assert snapshot(conn) == snapshot(build([e for e in events if e not in gone], params))
    m.add(conn, gone, params)
    assert snapshot(conn) == expected


def test_through_the_engine_incremental_equals_rebuilt(tmp_path: Path) -> None:
    """Scrape up to C7 (day 8), materialize, scrape the rest (a late side commit, renames),
    catch up; then `--rebuild` must change nothing in any of the three materializers."""
    from kenning.materialize.engine import materialize
    from kenning.materialize.expertise import ExpertiseMaterializer
    from kenning.materialize.signals import SignalsMaterializer
    from kenning.recipes import load_recipe

    builder = cochange.build(tmp_path / "repo")
    repo, db = GitRepo.discover(tmp_path / "repo"), tmp_path / "kenning.db"
    recipe = load_recipe(repo.root)
    names = ("co_changes", "expertise", "signals")
    mats = (CoChangesMaterializer(), ExpertiseMaterializer(), SignalsMaterializer())

    def tables() -> dict[str, list[tuple[Any, ...]]]:
        conn = apsw.Connection(str(db))
        try:
            return {t: rows(conn, t) for m in mats for t in m.tables()}
        finally:
            conn.close()

    builder.checkout(builder.git("log", "--format=%H", "--grep=^C7$", "main"))
    scrape(repo, db, scrapers=["git"])
    assert {r.action for r in materialize(db, recipe, names)} == {"rebuilt"}
    builder.checkout("main")
    scrape(repo, db, scrapers=["git"])
    assert {r.action for r in materialize(db, recipe, names)} == {"caught up"}
    caught_up = tables()
    assert [r.action for r in materialize(db, recipe, names, rebuild=True)] == ["rebuilt"] * 3
    assert tables() == caught_up
    assert ("a.py", "b.py", 6, 8, 7, 80.0, D(1), D(11)) in caught_up["co_changes"]
