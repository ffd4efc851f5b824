"""`kenning status`: what the database holds and what is out of date."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import apsw

from kenning.api.asof import as_of
from kenning.eventlog import database, reader, state
from kenning.recipes import Recipe
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
    as_of: dict[str, Any] = field(default_factory=dict)  # see kenning.api.asof.AsOf
    # units this clone lacks blobs for ("scraper status" -> count); empty: a full clone's log
    missing_blobs: dict[str, int] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    materializers: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> state, reason
    # a static-rerank database: re-ranking vectors not yet made, and whether the
    # background fill (kenning/embed/fill.py) is making them now
    rerank: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(repo: GitRepo | None, db_path: Path, recipe: Recipe) -> Status:
    conn = database.connect(db_path, write=False)
    scraped = state.read(conn)
    counts = reader.counts(conn)
    moment = as_of(repo, scraped.target, scraped.cutoff)
    result = Status(
        db=str(db_path), target=scraped.target, cutoff=scraped.cutoff, head=moment.head,
        reproducible=scraped.reproducible, events=sum(counts.values()), counts=counts,
        last_run=reader.last_run(conn), units=reader.unit_statuses(conn),
        missing_blobs=scraped.missing_blobs,
    )
    result.as_of = moment.as_json()
    if moment.note() and not moment.cutoff:
        result.stale.append(f"eventlog: {moment.note()}")
    try:
        _materializer_status(conn, recipe, result)
        _rerank_status(conn, db_path, result)
    finally:
        conn.close()
    return result


def _rerank_status(conn: apsw.Connection, db_path: Path, result: Status) -> None:
    from kenning.embed import fill

    model = fill.reranker(conn)
    if model is not None:
        result.rerank = {"model": model.name, "missing": len(fill.missing(conn, model)),
                         "filling": fill.running(db_path)}


def _materializer_status(conn: apsw.Connection, recipe: Recipe, result: Status) -> None:
    """Each materializer as fresh, stale (with the reason) or disabled."""
    from kenning.materialize.engine import freshness

    for f in freshness(conn, recipe):
        result.materializers[f.name] = {"state": f.state, "reason": f.reason}
        if f.state == "stale":
            result.stale.append(f"{f.name}: {f.reason}; run `kenning materialize`")
