"""Reading `--until` and `--since`: a date, an ISO time with offset, or a git revision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from kenning.errors import KenningError
from kenning.eventlog.events import utc_timestamp
from kenning.repository.gitrepo import GitRepo

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Until:
    target: str  # the commit to scrape
    cutoff: str | None  # UTC time; events after it are left out (None: nothing is)


def parse_time(text: str, *, end_of_day: bool = True) -> int | None:
    """Epoch seconds for `YYYY-MM-DD` (end of that day in UTC, or its start) or an
    ISO time with an offset; None when `text` does not look like a time at all."""
    text = text.strip()
    if _DATE.match(text):
        try:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise KenningError(f"cannot read the date {text!r}: {exc}") from exc
        return int(day.timestamp()) + (86399 if end_of_day else 0)
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]", text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise KenningError(
            f"cannot read the time {text!r}; use YYYY-MM-DD or an ISO time such as "
            "2024-06-30T12:00:00+02:00"
        ) from exc
    if moment.tzinfo is None:
        raise KenningError(
            f"the time {text!r} has no offset; add one (e.g. {text}Z or {text}+02:00)"
        )
    return int(moment.timestamp())


def resolve_until(repo: GitRepo, head: str, text: str) -> Until:
    if not text.strip():
        raise KenningError("--until needs a date (YYYY-MM-DD), an ISO time or a revision")
    epoch = parse_time(text)
    if epoch is not None:
        target = repo.last_first_parent_commit_before(head, epoch)
        if target is None:
            raise KenningError(f"no commit on the first-parent history at or before {text}")
        return Until(target, utc_timestamp(epoch))
    if re.match(r"^[\d/.]+$", text):
        raise KenningError(
            f"cannot read --until {text!r}: use YYYY-MM-DD, an ISO time with offset, "
            "or a git revision"
        )
    target = repo.resolve_commit(text)
    if target is None:
        raise KenningError(
            f"unknown revision {text!r} for --until (not a commit, and not a date YYYY-MM-DD)"
        )
    return Until(target, utc_timestamp(repo.commit_time(target)))
