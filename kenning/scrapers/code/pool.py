"""Parsing across processes, results in submission order (so the merge is deterministic).

Batches of files go to a process pool; results come back in the order the
batches were submitted, whatever order the workers finish in. With one worker
everything runs in this process. Workers also compress the facts for the parse
cache, so the parent only receives.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future

from kenning.processes import worker_pool
from kenning.scrapers.code.cache import compress
from kenning.scrapers.code.extract import extract

Job = tuple[str, str, bytes]  # (key, language, source bytes)
Done = tuple[str, bytes, bool, bytes | None]  # (key, facts, partial, compressed facts)

# Each batch costs the pool about 1 ms; the last ones must be small, or one worker
# finishes long after the other. So batches shrink as the work runs out.
_MIN_BATCH_BYTES = 64 << 10
_MAX_BATCH_BYTES = 1 << 20
_BATCH_FILES = 256


def _run_batch(batch: list[Job], packed: bool) -> list[Done]:
    # Extraction allocates many short-lived containers (match dicts, lists) and makes no
    # cyclic garbage (extract breaks its own cycles), so the cyclic GC only costs here:
    # ~8% of the batch. It is paused, and restored for whoever runs next.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return [_run_one(*job, packed) for job in batch]
    finally:
        if enabled:
            gc.enable()


def _run_one(key: str, language: str, data: bytes, packed: bool) -> Done:
    try:
        facts, partial = extract(language, data)
    except Exception as exc:  # one bad file never stops a scrape; the scraper warns
        return key, f"error:{type(exc).__name__}: {exc}".encode()[:300], False, None
    return key, facts, partial, compress(facts) if packed else None


def _batches(jobs: Iterable[Job], total_bytes: int, workers: int) -> Iterator[list[Job]]:
    """Batches of about 1/(4 * workers) of the bytes still to come (guided
    self-scheduling), within [_MIN_BATCH_BYTES, _MAX_BATCH_BYTES]."""
    left = total_bytes
    batch: list[Job] = []
    size = 0
    for job in jobs:
        batch.append(job)
        size += len(job[2])
        goal = min(_MAX_BATCH_BYTES, max(_MIN_BATCH_BYTES, left // (4 * workers)))
        if size >= goal or len(batch) >= _BATCH_FILES:
            yield batch
            left -= size
            batch, size = [], 0
    if batch:
        yield batch


def parse_all(jobs: Iterable[Job], workers: int, total_bytes: int,
              packed: bool = False) -> Iterator[Done]:
    """Facts of every job, in job order; `total_bytes`: about how much source the
    jobs hold; `packed`: with the facts compressed too."""
    if workers <= 1:
        for batch in _batches(jobs, total_bytes, 1):
            yield from _run_batch(batch, packed)
        return
    executor = worker_pool(workers)
    try:
        pending: deque[Future[list[Done]]] = deque()
        for batch in _batches(jobs, total_bytes, workers):
            pending.append(executor.submit(_run_batch, batch, packed))
            while len(pending) > 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:  # interrupted: the batches not yet started are dropped
        executor.shutdown(wait=True, cancel_futures=True)
