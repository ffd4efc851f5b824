"""expertise against fixtures/cochange.py (its docstring has the history), by hand."""

from __future__ import annotations

import math
import random
from typing import Any

import apsw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kenning.eventlog.events import make_event
from kenning.materialize.base import StoredEvent
from kenning.materialize.expertise import ExpertiseMaterializer, ExpertiseParams
from tests import materializer_helpers as helpers
from tests.materializer_helpers import build_shuffled, cochange_log

D = "2024-03-{:02d}T12:00:00Z".format
A, B, C = "alice@example.com", "bob@example.com", "carol@example.com"


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[StoredEvent]:
    return cochange_log(tmp_path_factory.mktemp("expertise"))


def build(events: list[StoredEvent], params: dict[str, Any]) -> apsw.Connection:
    return helpers.build(ExpertiseMaterializer(), events, params)


def view(conn: apsw.Connection) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {(r[0], r[1]): r[2:] for r in conn.execute("SELECT * FROM expertise")}


def decayed(ages_in_days: list[int], half_life_days: float = 365.0) -> float:
    return sum(2 ** (-age / half_life_days) for age in ages_in_days)


def score(recent: float, commits: int, ownership: float) -> float:
    """The view's score at the default volume weight."""
    return recent + math.log2(1 + commits) * (1 + ownership)


# The reference time is the newest commit, C13 on day 17; ages below are 17 - day.
#
# a.py: C1 A +1, C2 B +1, C3 A +1, C4 A +1, C5 C +1, C7 A +1, C8 A +1,
#       C9 B +2 -7 (the rewrite), BIG A +1 (its size does not matter here)
#   Alice: 6 commits (days 1 3 4 8 10 13), +6 -0; Bob: 2 (days 2 11), +3 -7; Carol: 1 (day 5)
#   lines added 6 + 3 + 1 = 10: ownership 0.6 / 0.3 / 0.1, main developer Alice
# new.py (old.py until C6 renamed it): C1 A +1, C2 B +1, C4 A +1, C5 C +1, C6 B +0, C7 A +1
#   Alice 3 commits (1 4 8) +3, Bob 2 (2 7) +1, Carol 1 (5) +1: ownership 0.6 / 0.2 / 0.2
# lib/f.py (lib/e.py until BIG): E1 A +1, E2 A +1, BIG A +0, F1 B +2
#   Alice 3 commits (6 12 13) +2, Bob 1 (16) +2: 0.5 / 0.5, lines tie -> more commits: Alice
# old.py (new file on day 17): Carol 1 commit +1
EXPECTED = {
    ("a.py", A): ("Alice Example", 6, 6, 0, D(1), D(13), decayed([16, 14, 13, 9, 7, 4]), 0.6, 1),
    ("a.py", B): ("Bob Builder", 2, 3, 7, D(2), D(11), decayed([15, 6]), 0.3, 0),
    ("a.py", C): ("Carol Coder", 1, 1, 0, D(5), D(5), decayed([12]), 0.1, 0),
    ("new.py", A): ("Alice Example", 3, 3, 0, D(1), D(8), decayed([16, 13, 9]), 0.6, 1),
    ("new.py", B): ("Bob Builder", 2, 1, 0, D(2), D(7), decayed([15, 10]), 0.2, 0),
    ("new.py", C): ("Carol Coder", 1, 1, 0, D(5), D(5), decayed([12]), 0.2, 0),
    ("lib/f.py", A): ("Alice Example", 3, 2, 0, D(6), D(13), decayed([11, 5, 4]), 0.5, 1),
    ("lib/f.py", B): ("Bob Builder", 1, 2, 0, D(16), D(16), decayed([1]), 0.5, 0),
    ("old.py", C): ("Carol Coder", 1, 1, 0, D(17), D(17), decayed([0]), 1.0, 1),
    # b.py: Alice C1 C3 C4 C7 BIG = 5 (+5), Bob C2 C6 C9 = 3 (+3): 5/8 and 3/8
    ("b.py", A): ("Alice Example", 5, 5, 0, D(1), D(13), decayed([16, 14, 13, 9, 4]), 0.625, 1),
    ("b.py", B): ("Bob Builder", 3, 3, 0, D(2), D(11), decayed([15, 10, 6]), 0.375, 0),
    # c.py: Carol S1 C12 (the merge M is skipped); d.py: Carol S1 C12 C13
    ("c.py", C): ("Carol Coder", 2, 2, 0, D(9), D(15), decayed([8, 2]), 1.0, 1),
    ("d.py", C): ("Carol Coder", 3, 3, 0, D(9), D(17), decayed([8, 2, 0]), 1.0, 1),
    ("g.py", A): ("Alice Example", 1, 1, 0, D(10), D(10), decayed([7]), 1.0, 1),
}


def test_every_number(events: list[StoredEvent]) -> None:
    got = view(build(events, {}))
    gen = {k: v for k, v in got.items() if k[0].startswith("gen/")}
    assert len(gen) == 28  # BIG's generated files: Alice, 1 commit, +1 each (day 13)
    assert set(gen.values()) == {("Alice Example", 1, 1, 0, D(13), D(13),
                                  gen[("gen/00.txt", A)][6], gen[("gen/00.txt", A)][7],
                                  1.0, 1)}
    assert gen[("gen/00.txt", A)][6] == pytest.approx(decayed([4]), rel=1e-12)
    rest = {k: v for k, v in got.items() if not k[0].startswith("gen/")}
    assert rest.keys() == EXPECTED.keys()
    for key, want in EXPECTED.items():
        have = rest[key]
        assert have[:6] == want[:6], key
        assert have[6] == pytest.approx(want[6], rel=1e-12), key  # recent
        assert have[7] == pytest.approx(score(want[6], want[1], want[7]), rel=1e-12), key
        assert have[8] == pytest.approx(want[7], rel=1e-12), key  # ownership
        assert have[9] == want[8], key
    main = dict(((p, a) for p, a in build(events, {}).execute(
        "SELECT path, author FROM expertise_main")))
    assert main["a.py"] == A and main["lib/f.py"] == A and main["old.py"] == C


def test_half_life_from_the_recipe(events: list[StoredEvent]) -> None:
    got = view(build(events, {"half_life_days": 7, "volume_weight": 0.5}))
    recent = 2 ** (-15 / 7) + 2 ** (-6 / 7)
    assert got[("a.py", B)][6] == pytest.approx(recent, rel=1e-12)
    assert got[("a.py", B)][7] == pytest.approx(recent + 0.5 * math.log2(3) * 1.3, rel=1e-12)


def _commit(sha: str, ts: str, email: str, files: list[tuple[str, int]]) -> StoredEvent:
    e = make_event("git.commit", ts, sha, None, {
        "sha": sha, "is_merge": False, "author": {"name": email.split("@")[0], "email": email},
        "files": [{"path": p, "change_type": "M", "lines_added": n, "lines_removed": 0}
                  for p, n in files]})
    return StoredEvent(e.event_id, e.event_type, e.timestamp, e.source_id, e.source_file,
                       e.payload)


def test_main_developer_ties_break_deterministically() -> None:
    # x.py: zed and amy each add 3 lines in 1 commit on day 1 -> the smaller e-mail, amy;
    # y.py: zed, amy and bob each add 2 lines in 1 commit, bob on day 2 -> the latest, bob
    t1, t2 = "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"
    evs = [_commit("1" * 40, t1, "zed@x.org", [("x.py", 3), ("y.py", 2)]),
           _commit("2" * 40, t1, "amy@x.org", [("x.py", 3), ("y.py", 2)]),
           _commit("3" * 40, t2, "bob@x.org", [("y.py", 2)])]
    conn = build(evs, {})
    main = dict(conn.execute("SELECT path, author FROM expertise_main").fetchall())
    assert main == {"x.py": "amy@x.org", "y.py": "bob@x.org"}


def snapshot(conn: apsw.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ExpertiseMaterializer().tables()}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_arrival_order_and_removals_equal_a_rebuild(events: list[StoredEvent],
                                                        seed: int) -> None:
    expected = snapshot(build(events, {}))
    rnd = random.Random(seed)
    m = ExpertiseMaterializer()
    conn = build_shuffled(m, events, {}, rnd, 5)
    gone = rnd.sample(events, rnd.randint(1, 6))
    assert m.remove(conn, gone, ExpertiseParams()) is True
    assert snapshot(conn) == snapshot(build([e for e in events if e not in gone], {}))
    m.add(conn, gone, ExpertiseParams())
    assert snapshot(conn) == expected


# -- how much against how recently: fixtures/experts.py ---------------------------------


@pytest.fixture(scope="module")
def experts_log(tmp_path_factory: pytest.TempPathFactory) -> list[StoredEvent]:
    from fixtures import experts
    from tests.materializer_helpers import scraped_log

    return scraped_log(experts.build, tmp_path_factory.mktemp("experts"))


def ranking(conn: apsw.Connection, path: str) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT author, commits, lines_added, is_main FROM expertise "
                        "WHERE path = ? ORDER BY score DESC, author", (path,)).fetchall()


def test_twenty_old_commits_outrank_one_recent_one(experts_log: list[StoredEvent]) -> None:
    # core.py: Olga's 20 commits of 2020 against Nick's one (the newest in the log, +50)
    ranked = ranking(build(experts_log, {}), "src/core.py")
    assert [r[:3] for r in ranked] == [("olga@example.com", 20, 20), ("nick@example.com", 1, 50)]
    # ... and the main developer is the one who added the most lines, as code-maat's
    assert [r[0] for r in ranked if r[3]] == ["nick@example.com"]


@pytest.mark.parametrize("half_life_days", [1.0, 30.0, 365.0, 36_500.0])
def test_one_recent_commit_never_outranks_twenty_whatever_the_half_life(
        experts_log: list[StoredEvent], half_life_days: float) -> None:
    ranked = ranking(build(experts_log, {"half_life_days": half_life_days}), "src/core.py")
    assert ranked[0][0] == "olga@example.com"


def test_recent_work_counts_too(experts_log: list[StoredEvent]) -> None:
    # cli.py: Nick's 4 commits of 2024 outrank Pat's 1 (2023) and Olga's 1 (2020); with
    # no volume term Olga's single old commit is worth almost nothing
    conn = build(experts_log, {"volume_weight": 0.0})
    assert [r[0] for r in ranking(conn, "src/cli.py")] == [
        "nick@example.com", "pat@example.com", "olga@example.com"]
    assert ranking(conn, "src/core.py")[0][0] == "nick@example.com"  # recency alone


def test_equal_work_ties_by_author(experts_log: list[StoredEvent]) -> None:
    conn = build(experts_log, {})
    assert ranking(conn, "tie.py") == [("yan@example.com", 1, 2, 1), ("zed@example.com", 1, 2, 0)]
