"""What every scraper is: a pure function from the repository to events.

A scraper splits its output into *units* (a commit, a session file, a source
file). It first lists the units the target commit has, each with a
fingerprint that captures every input its events depend on; the scrape
engine compares them with the units already in the database and asks the
scraper only for the units that are new or changed. That one mechanism gives
incremental scrapes that equal a full scrape (invariant I2).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from kenning.eventlog.events import Event, canonical_json
from kenning.progress import Notice
from kenning.repository.gitrepo import GitRepo


@dataclass(frozen=True)
class ScrapeOptions:
    """Options that change what the eventlog holds (hashed into the scrape state)."""

    session_paths: tuple[str, ...] = ("layer/sessions",)
    worktree: bool = False  # read uncommitted session files too (not reproducible)
    code_max_bytes: int = 1_000_000
    code_exclude: tuple[str, ...] = ("vendor/", "node_modules/", "third_party/")
    code_extensions: tuple[tuple[str, str], ...] = ()  # extra (".ext", "language") pairs
    workers: int = 2  # does not change the output, so it is left out of the hash

    def fingerprint(self) -> str:
        values = asdict(self)
        values.pop("workers")
        return canonical_json(values)

    @classmethod
    def from_fingerprint(cls, text: str) -> ScrapeOptions:
        """The options a database was scraped with (what `kenning verify` rebuilds)."""
        values = json.loads(text)
        return cls(**{k: _tuples(v) for k, v in values.items()})


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class History:
    """Facts about the git history that other scrapers need, read from git events."""

    last_changed: dict[str, str] = field(default_factory=dict)  # path -> UTC time, first parent
    first_added: dict[str, str] = field(default_factory=dict)  # path -> UTC time it appeared
    tags: dict[str, str] = field(default_factory=dict)  # tag name -> commit sha


@dataclass
class ScrapeContext:
    repo: GitRepo
    target: str  # full sha of the commit being scraped
    cutoff: str | None  # events after this UTC time are left out (--until)
    options: ScrapeOptions
    history: Callable[[], History]  # computed on demand from the git events
    # a partial clone, or one that lacked blobs at the last scrape: look for what is
    # missing first (elsewhere scrapers learn it only when git fails on a missing blob)
    objects_may_be_missing: bool = False
    warnings: list[Notice] = field(default_factory=list)

    def warn(self, message: str, *, kind: str = "general", where: str | None = None) -> None:
        self.warnings.append(Notice(kind, message, where))


@dataclass(frozen=True)
class UnitResult:
    unit: str
    events: list[Event]
    status: str = "ok"  # e.g. "ok", "partial", "skipped:binary"; counted by `kenning status`
    # the unit's fingerprint when scraping it showed it depends on more than `units()`
    # knew (a blob found missing only when git failed on it); None: as listed
    fingerprint: str | None = None


class Scraper(Protocol):
    name: str

    def units(self, ctx: ScrapeContext) -> dict[str, str]:
        """Every unit at the target commit, mapped to its fingerprint."""
        ...

    def scrape(self, ctx: ScrapeContext, units: Sequence[str]) -> Iterator[UnitResult]:
        """Events of the given units (any order; the eventlog sorts)."""
        ...
