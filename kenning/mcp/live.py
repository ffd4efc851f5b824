"""One `Kenning` handle for the server's life, kept in step with the repository.

Every question goes through `Live.call`: one at a time (the handle's read connection
and its warm search engine are shared), after a cheap check of HEAD. When HEAD moved
past the commit the eventlog stands at, the log is scraped first without embeddings
(seconds at most), the answer says so, and the embeddings catch up in a child process
(`catchup.py`). Until then hybrid search ranks by meaning what has vectors and by words
all the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from kenning.api.handle import Kenning
from kenning.errors import KenningError
from kenning.mcp.catchup import EmbeddingCatchUp
from kenning.mcp.headwatch import HeadWatch

T = TypeVar("T")
RETRY_SECONDS = 30


class Live:
    def __init__(self, handle: Kenning, *, update: bool = True, embed: bool = True) -> None:
        self.k = handle
        self._lock = threading.Lock()
        self.watch = HeadWatch(handle.repo) if update and handle.repo is not None else None
        self.catch_up = EmbeddingCatchUp(handle.root, handle.db_path) if embed else None
        self._pending: list[str] = []  # news not yet told (the warm-up's, a failed call's)
        self._retry_at = 0.0  # after a failed update, when to try again

    def call(self, work: Callable[[Kenning], T]) -> tuple[T, list[str]]:
        """`work(handle)` on an up-to-date eventlog, with notes on what happened first."""
        with self._lock:
            notes, self._pending = self._pending, []
            notes += self._keep_up()
            try:
                value = work(self.k)
            except BaseException:
                self._pending = notes  # said with the next answer instead
                raise
            if self.catch_up is not None:
                notes += self.catch_up.notes()
            return value, notes

    def warm_up(self) -> None:
        """Bring the log up to date and load the vectors and the query encoder, so the
        first question pays for neither; then catch up embeddings a restart left behind.
        Failures wait for the first question to say."""
        try:
            with self._lock:
                self._pending += self._keep_up()
                self.k.warm_up()
            with self._lock:  # a question that came meanwhile goes first
                if self.catch_up is not None and not self.catch_up.running() \
                        and self._embeddings_behind():
                    self.catch_up.start()
        except Exception:  # noqa: BLE001 (the first question reports it)
            pass

    def close(self) -> None:
        with self._lock:
            if self.catch_up is not None:
                self.catch_up.stop()
            self.k.close()

    def _keep_up(self) -> list[str]:
        """Scrape when HEAD moved past the eventlog's commit; what was done, as notes."""
        if self.watch is None:
            return []
        key = self.watch.key()
        if self.watch.unchanged(key):
            return []
        head = self.watch.head()
        state = self.k.scrape_state()
        if head is None or head == state.target:
            self.watch.confirm(key)
            return []
        if state.cutoff:
            self.watch.confirm(key)
            return [f"this database was scraped up to {state.cutoff} (--until); it is not "
                    f"brought up to HEAD {head[:10]}"]
        where = f"the log at {state.target[:10]}" if state.target else "no eventlog yet"
        if time.monotonic() < self._retry_at:
            return [f"the eventlog is behind HEAD {head[:10]} (the last update failed; "
                    f"retrying within {RETRY_SECONDS}s); answering from {where}"]
        if self.catch_up is not None:
            self.catch_up.stop()  # it holds the write lock; its finished vectors are cached
        started = time.monotonic()
        try:
            report = self.k.scrape(embed=False, worktree=not state.reproducible)
        except KenningError as exc:
            # e.g. another process scraping: do not wait for its lock on every question
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return [f"could not bring the eventlog up to HEAD {head[:10]} ({exc.message}); "
                    f"answering from {where}"]
        self._retry_at = 0.0
        self.watch.confirm(key)
        notes = [f"HEAD moved to {head[:10]}: the eventlog was brought up to date before "
                 f"answering ({report.scrape.added} events added, {report.scrape.removed} "
                 f"removed, {time.monotonic() - started:.1f}s)"]
        if self.catch_up is not None and self._embeddings_behind():
            self.catch_up.start()
        return notes

    def _embeddings_behind(self) -> bool:
        """Embeddings that an incremental run would catch up (never built, or to be
        rebuilt from nothing, is the user's call: `kenning materialize embeddings`)."""
        for f in self.k.freshness():
            if f.name == "embeddings":
                return f.state == "stale" and not f.rebuild
        return False
