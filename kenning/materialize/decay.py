"""Exponentially decaying activity scores: the math, with no database in sight.

A score is the sum of an entity's event weights, each decayed by its age:

    S(t) = sum_i w_i * exp(-lambda * (t - t_i)),   lambda = ln 2 / half_life

Two equivalent ways to keep it:

- `fold` is the running form `S(t) = S(t_prev) * exp(-lambda * dt) + w`, where an
  event older than the last update is pre-decayed instead
  (`S += w * exp(-lambda * (t_last - t))`). O(1) per event, any arrival order
  gives the same score up to floating-point rounding (~1e-15 relative).
- `Accumulator` keeps the same sum exactly, as an integer: each event adds
  `round(w * 2^frac((t - ANCHOR)/h) * 2^FRACTION_BITS) << floor((t - ANCHOR)/h)`
  (h the half-life). Integer addition is associative, so any arrival order, a
  rebuild, or removing an event (subtraction) leaves the very same integer,
  and the score read from it is bit-for-bit the same. Materializers store
  this, so that incremental == rebuilt holds exactly (invariant I3).

Times are integer seconds since the Unix epoch. A score stored at time `since`
is read at any later time `at` with `decayed` (or `sql_decayed` inside SQL).
"""

from __future__ import annotations

import calendar
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

LN2 = math.log(2.0)
DAY = 86_400
FRACTION_BITS = 64  # bits kept below each term's leading power of two
MIN_HALF_LIFE_DAYS = 1.0 / 24  # an hour; below that the exact integers grow needlessly large
MAX_HALF_LIFE_DAYS = 36_500.0  # a century: no decay to speak of
MAX_WINDOW_DAYS = 36_500  # a window reaching back a century holds everything


@functools.lru_cache(maxsize=1 << 16)  # a commit's many contributions share its time
def epoch(timestamp: str) -> int:
    """Seconds since the epoch of an eventlog timestamp `YYYY-MM-DDTHH:MM:SSZ`. Sliced,
    as the format is fixed-width: `time.strptime` was a third of a signals rebuild."""
    return calendar.timegm((int(timestamp[0:4]), int(timestamp[5:7]), int(timestamp[8:10]),
                            int(timestamp[11:13]), int(timestamp[14:16]),
                            int(timestamp[17:19])))


def rate(half_life: float) -> float:
    """lambda = ln 2 / half-life (per second, for a half-life in seconds)."""
    if not half_life > 0:
        raise ValueError(f"half-life must be positive, got {half_life!r}")
    return LN2 / half_life


def decayed(score: float, since: float, at: float, half_life: float) -> float:
    """A score stored at time `since`, read at time `at` (>= since)."""
    return score * math.exp(-rate(half_life) * (at - since))


def sql_decayed(score: str, since: str, at: str, half_life: float) -> str:
    """`decayed` as an SQL expression over columns/expressions holding epoch seconds."""
    return f"({score}) * exp(-{rate(half_life)!r} * (({at}) - ({since})))"


@dataclass(frozen=True, slots=True)
class Decay:
    """Running state: the score as of `t_last`, the newest event folded in."""

    score: float = 0.0
    t_last: float | None = None

    def at(self, t: float, half_life: float) -> float:
        """The score read at time t (>= t_last): decayed from the stored value."""
        if self.t_last is None:
            return 0.0
        return decayed(self.score, self.t_last, t, half_life)


def fold(state: Decay, t: float, w: float, half_life: float) -> Decay:
    """Add one event of weight w at time t (any order)."""
    if state.t_last is None:
        return Decay(float(w), t)
    if t >= state.t_last:
        return Decay(state.score * math.exp(-rate(half_life) * (t - state.t_last)) + w, t)
    return Decay(state.score + w * math.exp(-rate(half_life) * (state.t_last - t)), state.t_last)


def brute_force(events: Iterable[tuple[float, float]], at: float, half_life: float) -> float:
    """The definition, summed directly: sum w * exp(-lambda * (at - t))."""
    lam = rate(half_life)
    return math.fsum(w * math.exp(-lam * (at - t)) for t, w in events)


# -- the exact form ------------------------------------------------------------------


def term(t: int, w: float, half_life: float) -> int:
    """One event's exact contribution to an Accumulator (t in seconds since ANCHOR = 0)."""
    whole, frac = _split(t, half_life)
    scaled = round(w * 2.0**frac * 2.0**FRACTION_BITS)
    return scaled << whole if whole >= 0 else scaled >> -whole


def value(acc: int, at: int, half_life: float) -> float:
    """The score an accumulator holds, read at time `at` (seconds)."""
    if acc == 0:
        return 0.0
    sign = -1.0 if acc < 0 else 1.0  # only transiently negative, mid-removal
    acc = abs(acc)
    whole, frac = _split(at, half_life)
    shift = max(acc.bit_length() - 60, 0)  # keep 60 significant bits: exact in a float
    top = float(acc >> shift)
    return sign * math.ldexp(top * 2.0**-frac, shift - FRACTION_BITS - whole)


def _split(t: int, half_life: float) -> tuple[int, float]:
    """t / half_life as a whole number of half-lives and a fraction in [0, 1).

    divmod on floats is exact (fmod), so the fraction is as precise as a float
    can be, however many half-lives have passed since the anchor."""
    whole, rest = divmod(float(t), half_life)
    return int(whole), rest / half_life


def encode(acc: int) -> str:
    """An accumulator as text (SQLite integers stop at 64 bits)."""
    return format(acc, "x") if acc >= 0 else "-" + format(-acc, "x")


def decode(text: str) -> int:
    return int(text, 16)


def half_life_seconds(days: float) -> float:
    if not days >= MIN_HALF_LIFE_DAYS:
        raise ValueError(f"half_life_days must be at least {MIN_HALF_LIFE_DAYS:.4f}, got {days!r}")
    return float(days) * DAY
