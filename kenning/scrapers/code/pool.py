"""Parsing across processes, results in submission order (so the merge is deterministic).

Batches of files go to a process pool; results come back in the order the
batches were submitted, whatever order the workers finish in. With one worker
everything runs in this process.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from kenning.scrapers.code.extract import extract

Job = tuple[str, str, bytes]  # (key, language, source bytes)
Done = tuple[str, bytes, bool]  # (key, facts JSON, partial)

_BATCH_BYTES = 1 << 20
_BATCH_FILES = 64


def _run_batch(batch: list[Job]) -> list[Done]:
    return [_run_one(*job) for job in batch]


def _run_one(key: str, language: str, data: bytes) -> Done:
    try:
        return (key, *extract(language, data))
    except Exception as exc:  # one bad file never stops a scrape; the scraper warns
        return key, f"error:{type(exc).__name__}: {exc}".encode()[:300], False


def _batches(jobs: Iterable[Job]) -> Iterator[list[Job]]:
    batch: list[Job] = []
    size = 0
    for job in jobs:
        batch.append(job)
        size += len(job[2])
        if size >= _BATCH_BYTES or len(batch) >= _BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def parse_all(jobs: Iterable[Job], workers: int) -> Iterator[Done]:
    if workers <= 1:
        for batch in _batches(jobs):
            yield from _run_batch(batch)
        return
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        pending: deque[Future[list[Done]]] = deque()
        for batch in _batches(jobs):
            pending.append(executor.submit(_run_batch, batch))
            while len(pending) > 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
