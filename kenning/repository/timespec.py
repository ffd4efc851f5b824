"""Reading `--until` and `--since`: a git revision, or a date as git reads it.

Dates kenning reads itself, the same on every machine and every day (UTC):
`2024` (the whole year), `2024-06` (the month), `2024-06-30` (the day), an ISO
time with an offset (`2024-06-30T12:00:00+02:00`, `...Z`) and `@<epoch seconds>`.
A bound given as a year, month or day means its start for `--since` and its end
for `--until`.

Anything else is handed to git's own date reader (approxidate, the one behind
`git log --since`), in UTC: `yesterday`, `2 weeks ago`, `last friday`,
`Jun 30 2024`. Those count from the current time, as git does, so the same words
name a different moment tomorrow; the resolved moment is what a scrape records.
"""

from __future__ import annotations

import calendar
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime

from kenning.errors import KenningError
from kenning.eventlog.events import utc_timestamp
from kenning.repository.gitrepo import GitRepo

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d")
_EPOCH = re.compile(r"^@(\d{1,12})$")
_FORMS = "YYYY[-MM[-DD]], an ISO time with offset, or a git date such as '2 weeks ago'"


@dataclass(frozen=True)
class Until:
    target: str  # the commit to scrape
    cutoff: str | None  # UTC time; events after it are left out (None: nothing is)


def read_time(text: str, *, end: bool, option: str) -> int:
    """Epoch seconds of a date or time; `end` picks the end of a year, month or day
    (else its start). A one-line error names `option` when `text` is no date."""
    text = text.strip()
    if not text:
        raise KenningError(f"{option} needs a date ({_FORMS})")
    period = _PERIOD.match(text)
    if period:
        return _period_bound(text, period, end=end, option=option)
    if _ISO_TIME.match(text):
        return _iso_time(text, option)
    epoch = _EPOCH.match(text)
    if epoch:
        return int(epoch.group(1))
    return _git_date(text, option)


def resolve_until(repo: GitRepo, head: str, text: str) -> Until:
    """The commit and cutoff `--until TEXT` names: a revision (a tag such as 2.0.0, a
    branch, a sha) when git knows one by that name, else a date; for a date, the last
    commit on the first-parent history of HEAD at or before it (by committer date), so a
    branch merged only later is not part of it."""
    text = text.strip()
    if not text:
        raise KenningError(f"--until needs a date or a revision ({_FORMS})")
    target = _revision(repo, text)
    if target is not None:
        return Until(target, utc_timestamp(repo.commit_time(target)))
    epoch = _date(text, end=True, option="--until")
    target = repo.last_first_parent_commit_before(head, epoch)
    if target is None:
        raise KenningError(f"no commit on the first-parent history at or before {text} "
                           f"({utc_timestamp(epoch)})")
    return Until(target, utc_timestamp(epoch))


def as_time(repo: GitRepo | None, text: str | None, *, end: bool, option: str) -> str | None:
    """A query's time bound (`--since`, `--until`) as a UTC time, read once: a revision
    this repository knows (a tag such as 2.0.0, a branch, a sha) stands for its commit's
    time, as it does for `scrape --until`; a date is read as read_time reads it (so
    '2 weeks ago' asks git once); anything else is a one-line error."""
    if text is None or repo is None or not text.strip():
        return text  # (an empty bound: read_time says what it needs)
    target = _revision(repo, text.strip())
    if target is not None:
        return utc_timestamp(repo.commit_time(target))
    return utc_timestamp(_date(text.strip(), end=end, option=option))


def _date(text: str, *, end: bool, option: str) -> int:
    """read_time, for text that names no revision: an error says both were tried."""
    try:
        return read_time(text, end=end, option=option)
    except KenningError as exc:
        if _PERIOD.match(text) or _ISO_TIME.match(text):
            raise  # a date with something wrong in it: say what
        raise KenningError(f"cannot read {option} {text!r}: not a revision of this "
                           f"repository, and not a date ({_FORMS})") from exc


def _revision(repo: GitRepo, text: str) -> str | None:
    """A year is a date, never a commit id that happens to start with its digits (git
    accepts ids of four hex digits); a tag or branch of that name still wins."""
    if re.fullmatch(r"19[7-9]\d|2\d{3}", text):
        return (repo.resolve_commit(f"refs/tags/{text}")
                or repo.resolve_commit(f"refs/heads/{text}"))
    return repo.resolve_commit(text)


def _period_bound(text: str, match: re.Match[str], *, end: bool, option: str) -> int:
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    if month is not None and not 1 <= month <= 12:
        raise KenningError(f"cannot read the date {text!r} for {option}: there is no month "
                           f"{month}")
    if day is not None:
        assert month is not None
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise KenningError(f"cannot read the date {text!r} for {option}: "
                               f"{calendar.month_name[month]} {year} has days 1 to {last}")
    if year < 1970:
        raise KenningError(f"cannot read the date {text!r} for {option}: kenning reads "
                           "dates from 1970 on")
    first = (year, month or 1, day or 1)
    if not end:
        return calendar.timegm((*first, 0, 0, 0))
    if day is not None:  # the next day, month or year, less one second
        following = calendar.timegm((*first, 0, 0, 0)) + 86400
    elif month is not None:
        following = calendar.timegm((year + month // 12, month % 12 + 1, 1, 0, 0, 0))
    else:
        following = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
    return following - 1


def _iso_time(text: str, option: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise KenningError(
            f"cannot read the time {text!r} for {option}; use YYYY-MM-DD or an ISO time "
            "such as 2024-06-30T12:00:00+02:00"
        ) from exc
    if moment.tzinfo is None:
        raise KenningError(
            f"the time {text!r} has no offset; add one (e.g. {text}Z or {text}+02:00)"
        )
    return int(moment.astimezone(UTC).timestamp())


def _git_date(text: str, option: str) -> int:
    """git's approxidate, through `git config --type=expiry-date` (the one git command
    that says when it cannot read a date), in UTC so the machine's zone does not
    matter. git reads a date out of almost anything (`v9.9.9` is 2009-09-09), so only
    text made of numbers and the words git's reader knows is given to it."""
    if not _git_words_only(text):
        raise KenningError(f"cannot read {option} {text!r}: not a date ({_FORMS})")
    spelt = "0 seconds ago" if text.lower() == "now" else text  # git's expiry "now" is "all"
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_DIR")}
    env.update(TZ="UTC", LC_ALL="C", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    try:
        proc = subprocess.run(
            ["git", "-c", f"kenning.date={spelt}", "config", "--type=expiry-date",
             "kenning.date"], capture_output=True, env=env, check=False, cwd="/")
    except FileNotFoundError as exc:
        raise KenningError("git is not installed or not on PATH") from exc
    value = proc.stdout.strip()
    if proc.returncode != 0 or not value.isdigit() or int(value) in (0, 2**64 - 1):
        # 0 and the largest value are git's "never" and "all", not dates
        raise KenningError(f"cannot read {option} {text!r}: not a date ({_FORMS})")
    return int(value)


_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december", "sundays", "mondays", "tuesdays",
          "wednesdays", "thursdays", "fridays", "saturdays")
_WORDS = frozenset(
    ["yesterday", "today", "noon", "midnight", "tea", "am", "pm", "now", "last", "ago", "at",
     "utc", "gmt", "z", "st", "nd", "rd", "th", "zero", "one", "two", "three", "four", "five",
     "six", "seven", "eight", "nine", "ten"]
    + [f"{unit}{s}" for unit in ("second", "minute", "hour", "day", "week", "fortnight",
                                 "month", "year") for s in ("", "s")])


def _git_words_only(text: str) -> bool:
    """Some words, each one git's date reader knows (a month or weekday by three
    letters or more, as git matches them), among numbers and date punctuation."""
    if re.search(r"[^\w\s.,:/+-]|_", text):
        return False  # ~ ^ @ { } are revision syntax, not dates
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    return bool(words) and all(
        w in _WORDS or (len(w) >= 3 and any(n.startswith(w) for n in _NAMES)) for w in words)
