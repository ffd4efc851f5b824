"""`kenning status`: what the database holds and what is out of date."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import apsw

from kenning.eventlog import database
from kenning.repository.gitrepo import GitRepo


@dataclass
class Status:
    db: str
    target: str | None
    cutoff: str | None
    head: str | None
    reproducible: bool
    events: int
    counts: dict[str, int]
    last_run: dict[str, Any] | None
    units: dict[str, dict[str, int]]  # scraper -> unit status -> count
    stale: list[str] = field(default_factory=list)
    materializers: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> state, reason

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(repo: GitRepo | None, db_path: Path) -> Status:
    conn = database.connect(db_path, create=False)
    target = database.get_meta(conn, "target:git") or None
    state = json.loads(database.get_meta(conn, "options") or "{}")
    counts = dict(conn.execute(
        "SELECT event_type, count(*) FROM eventlog GROUP BY 1 ORDER BY 1").fetchall())
    units: dict[str, dict[str, int]] = {}
    for scraper, unit_status, n in conn.execute(
        "SELECT scraper, status, count(*) FROM scrape_units GROUP BY 1, 2 ORDER BY 1, 2"
    ):
        units.setdefault(scraper, {})[unit_status] = n
    run = conn.execute(
        "SELECT finished_at, target, cutoff, tool_version, added, removed, seconds, warnings"
        " FROM scrape_runs ORDER BY run DESC LIMIT 1"
    ).fetchone()
    last_run = None
    if run:
        keys = ["finished_at", "target", "cutoff", "tool_version", "added", "removed", "seconds"]
        last_run = dict(zip(keys, run[:-1], strict=True)) | {"warnings": json.loads(run[-1])}
    head = repo.head() if repo else None
    result = Status(
        db=str(db_path), target=target, cutoff=state.get("cutoff"), head=head,
        reproducible=database.get_meta(conn, "reproducible") != "0",
        events=sum(counts.values()), counts=counts, last_run=last_run, units=units,
    )
    if head and target and head != target and not result.cutoff:
        result.stale.append(f"eventlog: HEAD is at {head[:12]} but the log is at {target[:12]}; "
                            "run `kenning scrape`")
    _materializer_status(conn, repo, result)
    return result


def _materializer_status(conn: apsw.Connection, repo: GitRepo | None, result: Status) -> None:
    """Each materializer as fresh, stale (with the reason) or disabled."""
    from kenning.materialize.engine import freshness
    from kenning.recipes import load_recipe

    for f in freshness(conn, load_recipe(repo.root if repo else None)):
        result.materializers[f.name] = {"state": f.state, "reason": f.reason}
        if f.state == "stale":
            result.stale.append(f"{f.name}: {f.reason}; run `kenning materialize`")
