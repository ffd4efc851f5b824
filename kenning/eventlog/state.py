"""The scrape state: what the stored eventlog is a function of, and how far each scraper got.

It lives in the `meta` table as a few keys; this module is the only one that
knows them. Local bookkeeping: none of it enters the digest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import apsw

from kenning.eventlog.database import get_meta, set_meta


@dataclass(frozen=True)
class ScrapeState:
    targets: dict[str, str] = field(default_factory=dict)  # scraper -> commit it scraped
    positions: dict[str, str] = field(default_factory=dict)  # scraper -> its no-op key
    inputs: str | None = None  # canonical JSON of {options, cutoff, format}; see scrape_inputs
    reproducible: bool = True  # False: uncommitted files were read (--worktree)
    # units this clone lacked blobs for ("scraper status" -> count); empty: a full clone's
    # log. Non-empty: the log depends on which objects the clone has
    missing_blobs: dict[str, int] = field(default_factory=dict)
    log_epoch: int = 0  # bumped whenever the log is rebuilt from nothing

    @property
    def target(self) -> str | None:
        """The commit the eventlog stands at (the git scraper's target)."""
        return self.targets.get("git") or None

    @property
    def cutoff(self) -> str | None:
        """The `--until` time the log was cut at, if any."""
        return self._inputs().get("cutoff")

    @property
    def options(self) -> str | None:
        """The scrape options' fingerprint (ScrapeOptions.fingerprint())."""
        return self._inputs().get("options")

    def _inputs(self) -> dict[str, Any]:
        value = json.loads(self.inputs) if self.inputs else {}
        return value if isinstance(value, dict) else {}


def read(conn: apsw.Connection) -> ScrapeState:
    try:
        rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except apsw.SQLError:  # no schema yet
        return ScrapeState()
    targets = {k.removeprefix("target:"): v for k, v in rows.items() if k.startswith("target:")}
    positions = {k.removeprefix("position:"): v for k, v in rows.items()
                 if k.startswith("position:")}
    epoch = rows.get("log_epoch") or "0"
    return ScrapeState(targets=dict(sorted(targets.items())),
                       positions=dict(sorted(positions.items())),
                       inputs=rows.get("options"),
                       reproducible=rows.get("reproducible") != "0",
                       missing_blobs=_counts(rows.get("missing_blobs")),
                       log_epoch=int(epoch) if epoch.isdigit() else 0)


def mark_scraped(conn: apsw.Connection, scraper: str, target: str, position: str) -> None:
    set_meta(conn, f"target:{scraper}", target)
    set_meta(conn, f"position:{scraper}", position)


def set_inputs(conn: apsw.Connection, inputs: str, *, reproducible: bool) -> None:
    set_meta(conn, "options", inputs)
    set_meta(conn, "reproducible", "1" if reproducible else "0")


def set_missing_blobs(conn: apsw.Connection, counts: dict[str, int]) -> None:
    set_meta(conn, "missing_blobs", json.dumps(counts, sort_keys=True))


def _counts(text: str | None) -> dict[str, int]:
    value = json.loads(text) if text else {}
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


def new_epoch(conn: apsw.Connection) -> int:
    """Forget how far every scraper got and start a new log epoch (materializers that
    see it rebuild instead of catching up)."""
    conn.execute("DELETE FROM meta WHERE key LIKE 'target:%' OR key LIKE 'position:%'")
    epoch = read(conn).log_epoch + 1
    set_meta(conn, "log_epoch", str(epoch))
    return epoch


def log_epoch(conn: apsw.Connection) -> int:
    value = get_meta(conn, "log_epoch") or "0"
    return int(value) if value.isdigit() else 0
