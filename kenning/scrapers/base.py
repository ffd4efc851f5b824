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
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

from kenning.eventlog.events import Event, canonical_json
from kenning.params import Params, param
from kenning.progress import Notice
from kenning.repository.gitrepo import GitRepo


def _session_path_problem(path: str) -> str | None:
    parts = path.replace("\\", "/").split("/")
    if not path.strip("/"):
        return f"{path!r} names no folder; give one inside the repository, such as layer/sessions"
    if ".." in parts:
        return f"{path!r} leaves the repository; give a folder inside it, such as layer/sessions"
    return None


def _extension_problem(pair: tuple[str, str]) -> str | None:
    extension, language = pair
    if not re.fullmatch(r"\.[^./]+", extension):
        return ('an extension starts with "." and has no other dot or slash (".pyi"), '
                f"not {extension!r}")
    # the grammars load only when a recipe names extra extensions
    from kenning.scrapers.code.languages import registry

    if language not in registry():
        return f"unknown language {language!r}; known: {', '.join(sorted(registry()))}"
    return None


@dataclass(frozen=True)
class ScrapeOptions(Params):
    """Options that change what the eventlog holds (hashed into the scrape state).

    The recipe's `[scrape]` table sets them (see kenning/params.py); building one
    checks them, so a bad option stops a scrape before it starts."""

    session_paths: tuple[str, ...] = param(
        ("layer/sessions",), "folders (repository-relative) that hold session notes",
        check=_session_path_problem)
    worktree: bool = param(False, "read uncommitted session files too (not reproducible)",
                           in_recipe=False)
    code_max_bytes: int = param(1_000_000, "code files larger than this many bytes are skipped",
                                above=0)
    code_exclude: tuple[str, ...] = param(
        ("vendor/", "node_modules/", "third_party/"),
        "code files under one of these folders (`dir/`), or matching one of these globs, "
        "are skipped")
    code_extensions: tuple[tuple[str, str], ...] = param(
        (), 'extra file extensions for the code scraper: ".ext" = "language"',
        check=_extension_problem)
    # how, not what: it does not change the output, so it is left out of the hash
    workers: int = param(2, "processes that read git history, parse code and parse notes",
                         minimum=1, maximum=256, in_recipe=False)

    def session_folders(self) -> tuple[str, ...]:
        """The session paths as folders (no leading or trailing "/", none empty)."""
        return tuple(p.strip("/") for p in self.session_paths if p.strip("/"))

    def fingerprint(self) -> str:
        values = asdict(self)
        values.pop("workers")
        return canonical_json(values)

    @classmethod
    def from_fingerprint(cls, text: str) -> ScrapeOptions:
        """The options a database was scraped with (what `kenning verify` rebuilds)."""
        return cls(**json.loads(text))


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
