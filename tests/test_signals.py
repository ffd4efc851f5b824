"""The signals materializer on fixtures/cochange.py plus hand-made code events."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import apsw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kenning.eventlog.events import make_event
from kenning.materialize import decay
from kenning.materialize.base import StoredEvent
from kenning.materialize.signals import SignalsMaterializer, SignalsParams
from tests import materializer_helpers as helpers
from tests.materializer_helpers import build_shuffled, cochange_log

D = "2024-03-{:02d}T12:00:00Z".format
ALICE = "alice@example.com"


def stored(event_type: str, ts: str, source_id: str, payload: dict[str, Any]) -> StoredEvent:
    e = make_event(event_type, ts, source_id, "src/x.py", payload)
    return StoredEvent(e.event_id, e.event_type, e.timestamp, e.source_id, e.source_file,
                       e.payload)


SYMBOLS = [stored("code.function", D(2), "src/x.py::run", {"name": "run"}),
           stored("code.type", D(16), "src/x.py::Runner", {"name": "Runner"}),
           stored("code.import", D(16), "src/x.py::os", {"name": "os"})]  # not a symbol


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[StoredEvent]:
    return cochange_log(tmp_path_factory.mktemp("signals")) + SYMBOLS


def build(events: list[StoredEvent], params: SignalsParams | dict[str, Any]) -> apsw.Connection:
    return helpers.build(SignalsMaterializer(), events, params)


def decayed(ages: list[float], weights: list[int] | None = None, half_life: float = 30) -> float:
    weights = weights or [1] * len(ages)
    return sum(w * 2 ** (-a / half_life) for a, w in zip(ages, weights, strict=True))


def test_scores_counts_and_windows(events: list[StoredEvent]) -> None:
    conn = build(events, {})
    scores = {r[:3]: r[3:] for r in conn.execute("SELECT * FROM signal_scores")}
    windows = {r[:4]: r[4:] for r in conn.execute("SELECT * FROM signal_windows")}
    # the reference time is the newest event: C13 on day 17; ages are 17 - day
    # a.py changed in C1 C2 C3 C4 C5 C7 C8 C9 BIG (days 1 2 3 4 5 8 10 11 13); merges skipped
    # lines: 1 each, except C9 (+2 -7 = 9): 8 * 1 + 9 = 17
    n, total, first, last, ref, score = scores[("file", "a.py", "changes")]
    assert (n, total, first, last, ref) == (9, 9, D(1), D(13), D(17))
    assert score == pytest.approx(decayed([16, 15, 14, 13, 12, 9, 7, 6, 4]), rel=1e-12)
    n, total, *_, score = scores[("file", "a.py", "lines")]
    assert (n, total) == (9, 17)
    assert score == pytest.approx(decayed([16, 15, 14, 13, 12, 9, 7, 6, 4],
                                          [1, 1, 1, 1, 1, 1, 1, 9, 1]), rel=1e-12)
    # windows end at day 17 12:00 and hold events strictly after its start:
    #   7 days: days 11..17 -> C9 (9 lines), BIG (1 line)
    #   30 and 90 days: all 9 events
    assert windows[("file", "a.py", "changes", 7)] == (2, 2)
    assert windows[("file", "a.py", "lines", 7)] == (2, 10)
    assert windows[("file", "a.py", "changes", 30)] == (9, 9)
    assert windows[("file", "a.py", "lines", 90)] == (9, 17)
    # velocity = events / window days
    (velocity,) = conn.execute(
        "SELECT velocity FROM signal_velocity WHERE entity = 'a.py' AND signal = 'changes' "
        "AND window_days = 7").fetchone()
    assert velocity == 2 / 7
    # Alice's commits: C1 C3 C4 E1 C7 C8 E2 BIG (days 1 3 4 6 8 10 12 13); M is a merge
    n, total, first, last, _, score = scores[("author", ALICE, "changes")]
    assert (n, total, first, last) == (8, 8, D(1), D(13))
    assert score == pytest.approx(decayed([16, 14, 13, 11, 9, 7, 5, 4]), rel=1e-12)
    assert windows[("author", ALICE, "changes", 7)] == (2, 2)  # E2 (12), BIG (13)
    # lines: C1 3, C3 2, C4 3, E1 1, C7 3, C8 2, E2 1, BIG 2 + 28 generated = 30 -> 45
    assert scores[("author", ALICE, "lines")][:2] == (8, 45)
    # symbols: definitions only, at the time of their file's last change
    assert scores[("symbol", "src/x.py::run", "changes")][:2] == (1, 1)
    assert scores[("symbol", "src/x.py::Runner", "changes")][5] == pytest.approx(
        decayed([1]), rel=1e-12)
    assert not any(k[1] == "src/x.py::os" for k in scores)
    assert ("symbol", "src/x.py::run", "changes", 7) not in windows  # day 2: too old
    assert windows[("symbol", "src/x.py::run", "changes", 30)] == (1, 1)


def test_reading_later_decays_the_stored_score(events: list[StoredEvent]) -> None:
    conn = build(events, {"half_life_days": 10})
    score, last = conn.execute("SELECT score, last_time FROM signals WHERE entity_kind = 'file'"
                               " AND entity = 'g.py' AND signal = 'changes'").fetchone()
    assert last == D(10)  # one change, C8 on day 10: stored as of then
    assert score == pytest.approx(1.0, rel=1e-15)
    later = decay.epoch(last) + 20 * decay.DAY  # two half-lives later: a quarter
    assert decay.decayed(score, decay.epoch(last), later, 10 * decay.DAY) == pytest.approx(0.25)
    expr = decay.sql_decayed("score", "unixepoch(last_time)", str(later), 10 * decay.DAY)
    (read,) = conn.execute(f"SELECT {expr} FROM signals WHERE entity = 'g.py' "
                           "AND signal = 'changes'").fetchone()
    assert read == pytest.approx(0.25, rel=1e-12)


def snapshot(conn: apsw.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in SignalsMaterializer().tables()}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_incremental_in_any_order_with_removals_equals_rebuilt(events: list[StoredEvent],
                                                               seed: int) -> None:
    params = SignalsParams(half_life_days=3, windows=(1, 5, 12))
    expected = snapshot(build(events, params))
    rnd = random.Random(seed)
    m = SignalsMaterializer()
    conn = build_shuffled(m, events, params, rnd, 4)
    # removing the newest events moves the reference time back: windows refill
    gone = sorted(events, key=lambda e: e.timestamp)[-rnd.randint(1, 4):]
    gone += rnd.sample(events, rnd.randint(0, 4))
    gone = list({e.event_id: e for e in gone}.values())
    assert m.remove(conn, gone, params) is True
    assert snapshot(conn) == snapshot(build([e for e in events if e not in gone], params))
    m.add(conn, gone, params)
    assert snapshot(conn) == expected


def test_a_checkpoint_restored_gives_the_exact_state(events: list[StoredEvent],
                                                     tmp_path: Path) -> None:
    params = SignalsParams()
    m = SignalsMaterializer()
    conn = apsw.Connection(str(tmp_path / "a.db"))
    m.create(conn, params)
    half = len(events) // 2
    m.add(conn, events[:half], params)
    conn.close()  # the checkpoint: the database file as it stands
    restored = apsw.Connection(str(tmp_path / "a.db"))
    m.add(restored, events[half:], params)
    assert snapshot(restored) == snapshot(build(events, params))


def test_everything_removed_leaves_empty_tables(events: list[StoredEvent]) -> None:
    conn = build(events, {})
    SignalsMaterializer().remove(conn, events, SignalsParams())
    for table, rows in snapshot(conn).items():
        assert rows == [], table
