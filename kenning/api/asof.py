"""Which moment a database answers for, and whether that is still HEAD.

Every answer from a database that is not at HEAD says so in one line: built for
the past (`scrape --until`) it is "as of <date> (<sha>)"; left behind by new
commits it is "N commits behind HEAD; run `kenning scrape`". The check costs one
`git rev-parse` (and a `rev-list --count` when they differ).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kenning.repository.gitrepo import GitRepo

PAST_DIR = Path(".kenning") / "past"


@dataclass(frozen=True)
class AsOf:
    target: str | None  # the commit the eventlog stands at
    cutoff: str | None  # the --until time it was cut at
    head: str | None  # the repository's HEAD now (None: no repository at hand)
    behind: int | None  # commits HEAD has that the target lacks; None when not known

    def note(self) -> str | None:
        """One line for people when the answers are not from HEAD, else None."""
        if self.target is None:
            return None
        if self.cutoff is not None:
            return f"answers as of {self.cutoff[:10]} ({self.target[:12]})"
        if self.head is None or self.head == self.target:
            return None
        if self.behind:
            noun = "commit" if self.behind == 1 else "commits"
            return (f"the database is {self.behind} {noun} behind HEAD (it is at "
                    f"{self.target[:12]}); run `kenning scrape`")
        return (f"the database is at {self.target[:12]}, which is not HEAD "
                f"({self.head[:12]}); run `kenning scrape`")

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"note": self.note()}


def as_of(repo: GitRepo | None, target: str | None, cutoff: str | None) -> AsOf:
    head = repo.head() if repo is not None else None
    behind = None
    if repo is not None and head and target and head != target and cutoff is None:
        out = repo.run("rev-list", "--count", f"{target}..{head}", ok_codes=(0, 128))
        text = out.decode().strip()
        behind = int(text) if text.isdigit() else None
    return AsOf(target, cutoff, head, behind)


def past_database(root: Path, target: str, cutoff: str | None) -> Path:
    """Where `scrape --until` builds the past by default: one file per (day, commit), so
    the main database is never rewound and `scry --until` finds it again."""
    day = (cutoff or "rev")[:10]
    return root / PAST_DIR / f"{day}-{target[:12]}.db"
