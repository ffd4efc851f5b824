"""`kenning verify`: rebuild the eventlog from nothing and compare it with the stored one."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kenning.errors import KenningError
from kenning.eventlog import database
from kenning.eventlog.digest import Difference, digest, first_difference
from kenning.gitrepo import GitRepo
from kenning.scrape import scrape
from kenning.scrapers import SCRAPERS
from kenning.scrapers.base import ScrapeOptions
from kenning.timespec import Until


@dataclass(frozen=True)
class VerifyResult:
    stored: str
    rebuilt: str
    difference: Difference | None

    @property
    def ok(self) -> bool:
        return self.stored == self.rebuilt


def verify(repo: GitRepo, db_path: Path) -> VerifyResult:
    conn = database.connect(db_path, create=False)
    target = database.get_meta(conn, "target:git")
    state = database.get_meta(conn, "options")
    if not target or not state:
        raise KenningError(f"{db_path} holds no scrape to verify; run `kenning scrape` first")
    if database.get_meta(conn, "reproducible") == "0":
        raise KenningError("this eventlog includes uncommitted files (--worktree); "
                           "it cannot be reproduced, so there is nothing to verify")
    saved = json.loads(state)
    options = ScrapeOptions.from_fingerprint(saved["options"])
    cutoff = saved["cutoff"]
    with tempfile.TemporaryDirectory(prefix="kenning-verify-") as tmp:
        fresh_path = Path(tmp) / "rebuilt.db"
        if repo.resolve_commit(target) is None:
            raise KenningError(f"the stored target {target[:12]} is not in this repository")
        scraped = [n for n in SCRAPERS if database.get_meta(conn, f"target:{n}") is not None]
        scrape(repo, fresh_path, at=Until(target, cutoff), options=options, scrapers=scraped)
        fresh = database.connect(fresh_path, create=False)
        ours, theirs = digest(conn), digest(fresh)
        diff = None if ours.sha256 == theirs.sha256 else first_difference(conn, fresh)
        fresh.close()
    return VerifyResult(ours.sha256, theirs.sha256, diff)
