"""Helpers for testing one materializer directly against a real scraped log."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import apsw

from fixtures import cochange
from kenning.materialize.base import EVENT_COLUMNS, Materializer, StoredEvent
from kenning.params import Params
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import scrape


def scraped_log(build: Any, root: Path) -> list[StoredEvent]:
    """The eventlog of a fixture script's repository (`build(path)`), scraped for real,
    in seq order."""
    build(root / "repo")
    scrape(GitRepo.discover(root / "repo"), root / "kenning.db", scrapers=["git"])
    conn = apsw.Connection(str(root / "kenning.db"))
    try:
        return [StoredEvent.from_row(r) for r in
                conn.execute(f"SELECT {EVENT_COLUMNS} FROM eventlog ORDER BY seq")]
    finally:
        conn.close()


def cochange_log(root: Path) -> list[StoredEvent]:
    """The eventlog of fixtures/cochange.py."""
    return scraped_log(cochange.build, root)


def typed(m: Materializer, params: Params | dict[str, Any]) -> Params:
    """The materializer's own parameters, from a dict of the fields a test sets."""
    return params if isinstance(params, Params) else m.params_type(**params)


def build(m: Materializer, events: list[StoredEvent],
          params: Params | dict[str, Any]) -> apsw.Connection:
    """A fresh in-memory database holding `m` folded over `events` in one call."""
    params = typed(m, params)
    conn = apsw.Connection(":memory:")
    m.create(conn, params)
    m.add(conn, events, params)
    return conn


def build_shuffled(m: Materializer, events: list[StoredEvent], params: Params | dict[str, Any],
                   rnd: random.Random, most: int) -> apsw.Connection:
    """The same, but events arrive shuffled, in chunks of 1..most."""
    params = typed(m, params)
    conn = apsw.Connection(":memory:")
    m.create(conn, params)
    shuffled = events[:]
    rnd.shuffle(shuffled)
    i = 0
    while i < len(shuffled):
        n = rnd.randint(1, most)
        m.add(conn, shuffled[i:i + n], params)
        i += n
    return conn
