"""The re-ranker's vectors made in the background, so that questions do not pay for them.

A `static-rerank` database stores static vectors, made in seconds; at query time MiniLM
re-scores each window's best candidates, and a candidate whose MiniLM vector is not in
the user-wide vector cache is computed by the question that needs it (some seconds for
each of the first questions). After a scrape, `start()` runs `fill()` in a detached
child process at the lowest CPU priority: it embeds every document text whose re-ranker
vector the cache lacks, the very text a question would embed, with the same encoder
(rerank.py), so no answer changes: they only come sooner.

One fill per database at a time (a lock file in the user cache): a second one waits for
the first, then embeds only what is still missing (what a scrape added meanwhile). And
one fill per user embeds at a time: fills of several databases (a user scraping one
repository after another) would share the same cores and write the same vector cache,
each holding its model in memory; they take turns instead. A killed fill loses its
chunk in flight; the cache is never wrong, only incomplete.

    python -m kenning.embed.fill DATABASE      # the same, in the foreground
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import apsw

from kenning.processes import this_kenning
from kenning.progress import Silent

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kenning.embed.cache import VectorCache
    from kenning.embed.models import EmbeddingModel
    from kenning.progress import Progress

# Set (to anything but "" or "0") to start no background process: CI, tests.
NO_BACKGROUND_ENV = "KENNING_NO_BACKGROUND"


def reranker(conn: apsw.Connection) -> EmbeddingModel | None:
    """The model that re-ranks this database's vectors; None when nothing does."""
    from kenning.embed.models import embedding_model, model_for_vectors

    try:
        row = conn.execute("SELECT model FROM embeddings LIMIT 1").fetchone()
    except apsw.SQLError:  # no embeddings table
        return None
    second = model_for_vectors(str(row[0])).rerank if row else None
    return embedding_model(second) if second else None


def missing(conn: apsw.Connection, model: EmbeddingModel) -> list[str]:
    """One event per document text whose `model` vector the vector cache lacks."""
    first_of: dict[str, str] = {}  # text hash -> its first event
    for digest, event_id in conn.execute(  # in the order of the index on text_hash
            "SELECT text_hash, event_id FROM embeddings ORDER BY text_hash, event_id"):
        first_of.setdefault(str(digest), str(event_id))
    with _cache() as cache:
        known = cache.known(model.vectors_id, first_of)
    return [event_id for digest, event_id in first_of.items() if digest not in known]


def fill(db_path: Path, progress: Progress | None = None) -> int:
    """Embed the texts of `db_path` whose re-ranker vectors the cache lacks; how many.
    Waits for a fill of the same database that is running."""
    from kenning.embed.encode import embed_texts
    from kenning.embed.rerank import texts_of
    from kenning.eventlog import database

    with _locked(db_path, wait=True), _turn(progress):
        conn = database.connect(db_path, write=False)
        try:
            model = reranker(conn)
            texts = texts_of(conn, missing(conn, model), model) if model else {}
        finally:
            conn.close()
        if model is None or not texts:
            return 0
        with _cache() as cache:
            _, _, stats = embed_texts(list(texts.values()), cache=cache,
                                      encoder_factory=model.bulk_encoder,
                                      model_id=model.vectors_id, progress=progress)
        return stats.embedded


def start(db_path: Path) -> int | None:
    """Start `fill` in a detached child process at the lowest priority, unless the
    environment says not to; its pid, or None."""
    if os.environ.get(NO_BACKGROUND_ENV, "") not in ("", "0"):
        return None
    child = subprocess.Popen(  # its own session: it outlives the command that started it
        this_kenning("kenning.embed.fill", str(db_path.resolve())),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True)
    return child.pid


def running(db_path: Path) -> bool:
    """Whether a fill of this database is running now (or waiting for its turn)."""
    with _locked(db_path, wait=False) as got:
        return not got


@contextlib.contextmanager
def _locked(db_path: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the database's fill lock while the block runs; False when `wait` is off and
    another process holds it."""
    key = hashlib.sha256(str(db_path.resolve()).encode()).hexdigest()[:16]
    with _flock(f"{key}.lock", wait=wait) as got:
        yield got


@contextlib.contextmanager
def _turn(progress: Progress | None) -> Iterator[None]:
    """Hold the user's one embedding turn while the block runs, saying so when it has
    to wait for another database's fill."""
    with _flock("turn.lock", wait=False) as got:
        if got:
            yield
            return
    if progress is not None:
        progress.note("waiting for another database's re-ranking vectors to be made first")
    with _flock("turn.lock", wait=True):
        yield


@contextlib.contextmanager
def _flock(name: str, *, wait: bool) -> Iterator[bool]:
    """Hold the lock file `name` in the user cache; False when `wait` is off and another
    process holds it. (No lock where there is no fcntl: fills may overlap, which costs
    work, not correctness.)"""
    try:
        import fcntl
    except ImportError:
        yield True
        return
    from kenning.embed.cache import user_cache_dir

    path = user_cache_dir() / "fill" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True  # closing the file lets go of the lock


@contextlib.contextmanager
def _cache() -> Iterator[VectorCache]:
    from kenning.embed.cache import VectorCache

    cache = VectorCache()
    try:
        yield cache
    finally:
        cache.close()


def main(argv: list[str]) -> int:
    """A fill at the lowest CPU priority (in the background, where its output goes
    nowhere: a failed fill leaves the questions to compute what it did not)."""
    from kenning.errors import KenningError

    if len(argv) != 1:
        print("usage: python -m kenning.embed.fill DATABASE", file=sys.stderr)
        return 2
    _lowest_priority()
    try:
        done = fill(Path(argv[0]), progress=_NotesToStderr())
    except (KenningError, apsw.Error, OSError) as exc:
        print(f"kenning: {exc}", file=sys.stderr)
        return 1
    print(f"{done} re-ranking vectors made")
    return 0


class _NotesToStderr(Silent):
    """The foreground fill's only progress: what it waits for."""

    def note(self, message: str) -> None:
        print(f"kenning: {message}", file=sys.stderr, flush=True)


def _lowest_priority() -> None:
    """Run only when no one else wants the CPU. Linux: SCHED_IDLE, and the lowest weight
    for the process's autogroup, since a process in a session of its own shares the CPU
    with other sessions as a group first (a question beside a fill took twice as long
    with SCHED_IDLE alone). Elsewhere: nice 19."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):
        with contextlib.suppress(OSError):
            os.nice(19)
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as group:
        group.write("19")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
