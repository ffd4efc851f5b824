"""Property tests of the decay math (kenning/materialize/decay.py)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.materialize import decay

DAY = decay.DAY
YEAR = 365 * DAY

event = st.tuples(st.integers(1_000_000_000, 1_000_000_000 + 5 * YEAR),
                  st.integers(0, 10_000))
sequence = st.tuples(st.floats(0.5, 400.0), st.lists(event, min_size=1, max_size=30))


def run(events: list[tuple[int, int]], half_life: float) -> decay.Decay:
    state = decay.Decay()
    for t, w in events:
        state = decay.fold(state, t, w, half_life)
    return state


def exact(events: list[tuple[int, int]], half_life: float) -> int:
    return sum(decay.term(t, w, half_life) for t, w in events)


@settings(max_examples=400, deadline=None)
@given(st.lists(sequence, min_size=25, max_size=25))
def test_matches_the_brute_force_sum_over_10000_sequences(
        sequences: list[tuple[float, list[tuple[int, int]]]]) -> None:
    # 400 examples x 25 sequences = 10,000 random sequences, in their drawn (random) order
    for days, events in sequences:
        half_life = days * DAY
        at = max(t for t, _ in events) + int(days * DAY * 0.3)
        want = decay.brute_force(events, at, half_life)
        assert run(events, half_life).at(at, half_life) == pytest.approx(want, rel=1e-6,
                                                                          abs=1e-300)
        assert decay.value(exact(events, half_life), at, half_life) == pytest.approx(
            want, rel=1e-9, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(sequence, st.lists(st.integers(0, 10 * YEAR), min_size=2, max_size=10))
def test_decreases_monotonically_without_new_events(
        seq: tuple[float, list[tuple[int, int]]], later: list[int]) -> None:
    days, events = seq
    half_life = days * DAY
    state = run(events, half_life)
    acc = exact(events, half_life)
    assert state.t_last is not None
    times = [int(state.t_last) + d for d in sorted(later)]
    read = [state.at(t, half_life) for t in times]
    read_exact = [decay.value(acc, t, half_life) for t in times]
    for values in (read, read_exact):
        assert all(a >= b for a, b in zip(values, values[1:], strict=False))
        assert all(v >= 0 for v in values)
    if read[0] > 0 and times[-1] > times[0] + half_life:  # (0 stays 0 once it underflows)
        assert read[-1] < read[0]


@settings(max_examples=200, deadline=None)
@given(sequence, st.randoms(use_true_random=False))
def test_any_arrival_order_gives_the_same_state(seq: tuple[float, list[tuple[int, int]]],
                                                rnd: random.Random) -> None:
    days, events = seq
    half_life = days * DAY
    shuffled = events[:]
    rnd.shuffle(shuffled)
    a, b = run(events, half_life), run(shuffled, half_life)
    assert a.t_last == b.t_last
    assert a.score == pytest.approx(b.score, rel=1e-9, abs=1e-300)
    # the exact form is exactly the same, and so is every value read from it
    assert exact(events, half_life) == exact(shuffled, half_life)
    assert decay.encode(exact(events, half_life)) == decay.encode(exact(shuffled, half_life))


@settings(max_examples=200, deadline=None)
@given(sequence, st.integers(0, 30))
def test_never_negative_even_after_removals(seq: tuple[float, list[tuple[int, int]]],
                                            cut: int) -> None:
    days, events = seq
    half_life = days * DAY
    cut = min(cut, len(events))
    acc = exact(events, half_life) - exact(events[:cut], half_life)  # remove the first `cut`
    assert acc == exact(events[cut:], half_life)
    at = max(t for t, _ in events)
    assert decay.value(acc, at, half_life) >= 0
    assert run(events, half_life).score >= 0


@settings(max_examples=200, deadline=None)
@given(sequence, st.integers(0, 30))
def test_a_checkpoint_restored_gives_the_exact_state(seq: tuple[float, list[tuple[int, int]]],
                                                     cut: int) -> None:
    days, events = seq
    half_life = days * DAY
    cut = min(cut, len(events))
    whole = run(events, half_life)
    first = run(events[:cut], half_life)
    restored = decay.Decay(float(repr(first.score)), first.t_last)  # written out and read back
    for t, w in events[cut:]:
        restored = decay.fold(restored, t, w, half_life)
    assert restored == whole
    acc = decay.decode(decay.encode(exact(events[:cut], half_life)))
    assert acc + exact(events[cut:], half_life) == exact(events, half_life)


def test_sql_form_matches_the_python_form() -> None:
    import apsw

    conn = apsw.Connection(":memory:")
    expr = decay.sql_decayed("s", "since", "at", 30 * DAY)
    (got,) = conn.execute(f"SELECT {expr} FROM (SELECT ? AS s, ? AS since, ? AS at)",
                          (5.0, 1_000_000, 1_000_000 + 45 * DAY)).fetchone()
    assert got == pytest.approx(decay.decayed(5.0, 1_000_000, 1_000_000 + 45 * DAY, 30 * DAY),
                                rel=1e-12)
    assert got == pytest.approx(5.0 * 2 ** -1.5, rel=1e-12)


def test_half_life_must_be_sensible() -> None:
    with pytest.raises(ValueError):
        decay.half_life_seconds(0)
    with pytest.raises(ValueError):
        decay.rate(-1.0)
    assert decay.epoch("1970-01-02T00:00:00Z") == DAY


@given(st.integers(0, 4_102_444_799))  # 1970 .. 2099
def test_epoch_reads_the_eventlog_timestamp_back(seconds: int) -> None:
    from kenning.eventlog.events import utc_timestamp

    assert decay.epoch(utc_timestamp(seconds)) == seconds
