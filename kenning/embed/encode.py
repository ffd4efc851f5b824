"""Turning texts into vectors: cache first, then the model, in length-sorted chunks.

The bulk encoder of a model (onnxruntime for MiniLM) is built only when some
text is missing from the cache; a query uses the model's light query encoder
(numpy for MiniLM), which starts in a tenth of a second. Neither imports torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kenning.embed.cache import VectorCache, text_hash
from kenning.embed.model import DIMENSIONS, MODEL_ID
from kenning.progress import Progress, Silent


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (len(texts), DIMENSIONS), unit length."""
        ...


_query_encoders: dict[tuple[str, bool], Encoder] = {}
_Chunk = list[tuple[str, str]]  # (text hash, text), a run of the length-sorted texts
WINDOW_CHARS = 1024  # about what fits the model's 256-token window: the rest costs nothing


def query_encoder(model_id: str = MODEL_ID, long_lived: bool = False) -> Encoder:
    """The encoder for query text of the model that made `model_id` vectors, built once
    per process (`long_lived`: for a process that keeps answering)."""
    key = (model_id, long_lived)
    if key not in _query_encoders:
        from kenning.embed.models import model_for_vectors

        _query_encoders[key] = model_for_vectors(model_id).query_encoder(long_lived)
    return _query_encoders[key]


@dataclass
class EmbedStats:
    embedded: int = 0  # texts the model encoded in this run
    cached: int = 0  # texts whose vector came from the cache (or a duplicate in this run)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, int | float]:
        return {"embedded": self.embedded, "cached": self.cached,
                "seconds": round(self.seconds, 3)}


def embed_texts(
    texts: Sequence[str],
    *,
    cache: VectorCache,
    encoder_factory: Callable[[], Encoder],
    model_id: str = MODEL_ID,
    progress: Progress | None = None,
    chunk_size: int = 1024,
) -> tuple[np.ndarray, list[str], EmbedStats]:
    """Vectors and text hashes for `texts`, embedding only what the cache lacks.

    The cache is read first, so the progress stage `embeddings` starts with its
    true total: the distinct texts still to embed. Missing texts are sorted by
    length so that a chunk's texts share token counts (the encoder batches texts of
    one token count; the chunks run in the order `balanced_order` picks), and every
    chunk is written to the cache (committed) as soon as it is done: Ctrl-C loses at
    most the chunk in flight.
    """
    started = time.monotonic()
    progress = progress or Silent()
    hashes = [text_hash(t) for t in texts]
    known = cache.get_many(model_id, hashes)
    todo: dict[str, str] = {}
    for digest, text in zip(hashes, texts, strict=True):
        if digest not in known:
            todo.setdefault(digest, text)
    stats = EmbedStats(embedded=len(todo), cached=len(texts) - len(todo))
    if todo:
        pending = sorted(todo.items(), key=lambda item: (len(item[1]), item[0]))
        chunks = [pending[start:start + chunk_size]
                  for start in range(0, len(pending), chunk_size)]
        progress.start("vectors", len(pending))  # after the "embeddings" pass over the log
        try:
            encoder = encoder_factory()
            for chunk in balanced_order(chunks):
                vectors = encoder.encode([text for _, text in chunk])
                done = [(digest, vectors[i]) for i, (digest, _) in enumerate(chunk)]
                cache.put_many(model_id, done)
                known.update(done)
                progress.advance(len(chunk))
        finally:
            progress.finish()
    matrix = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for i, digest in enumerate(hashes):
        matrix[i] = known[digest]
    stats.seconds = time.monotonic() - started
    return matrix, hashes, stats


def balanced_order(chunks: list[_Chunk]) -> list[_Chunk]:
    """The length-sorted chunks in the order that keeps the share of the work done (by
    characters, as far as the model reads) closest to the share of texts done, so the
    progress display's rate and time left hold for the whole run: shortest first had
    promised 7 s for two minutes' work."""
    cost = [sum(1 + min(len(text), WINDOW_CHARS) for _, text in chunk)  # 1: never 0
            for chunk in chunks]
    all_cost, all_texts = sum(cost), sum(len(chunk) for chunk in chunks)
    left, order = list(range(len(chunks))), []
    done_cost = done_texts = 0
    while left:
        best = min(left, key=lambda i: abs((done_cost + cost[i]) / all_cost
                                           - (done_texts + len(chunks[i])) / all_texts))
        left.remove(best)
        order.append(chunks[best])
        done_cost, done_texts = done_cost + cost[best], done_texts + len(chunks[best])
    return order
