"""Turning texts into vectors: cache first, then the model, in length-sorted batches.

Two encoders share the same weights. Bulk work (the embeddings materializer)
uses sentence-transformers on torch, which is fast per text but slow to import;
a single query uses the numpy encoder, which starts in a tenth of a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kenning.embed.cache import VectorCache, text_hash
from kenning.embed.model import DIMENSIONS, MAX_TOKENS, MODEL_ID, model_path
from kenning.progress import Progress


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (len(texts), DIMENSIONS), unit length."""
        ...


class SentenceTransformerEncoder:
    """The bulk encoder. Importing it costs seconds, so it is only built when needed."""

    def __init__(self, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer  # ~5 s: only here
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own bar, on a terminal only
        hf_logging.set_verbosity_error()
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(model_path()), device="cpu")
        self.model.max_seq_length = MAX_TOKENS

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_query_encoder: Encoder | None = None


def query_encoder() -> Encoder:
    """The light encoder for query text, built once per process."""
    global _query_encoder
    if _query_encoder is None:
        from kenning.embed.numpy_encoder import NumpyEncoder

        _query_encoder = NumpyEncoder()
    return _query_encoder


@dataclass
class EmbedStats:
    embedded: int = 0  # texts the model encoded in this run
    cached: int = 0  # texts whose vector came from the cache (or a duplicate in this run)
    seconds: float = 0.0


def embed_texts(
    texts: Sequence[str],
    *,
    cache: VectorCache,
    encoder_factory: Callable[[], Encoder] = SentenceTransformerEncoder,
    progress: Progress | None = None,
    chunk_size: int = 256,
) -> tuple[np.ndarray, list[str], EmbedStats]:
    """Vectors and text hashes for `texts`, embedding only what the cache lacks.

    Missing texts are sorted by length so that each model batch pads little,
    and every chunk is written to the cache (committed) as soon as it is done:
    Ctrl-C loses at most the chunk in flight.
    """
    started = time.monotonic()
    hashes = [text_hash(t) for t in texts]
    known = cache.get_many(MODEL_ID, hashes)
    todo: dict[str, str] = {}
    for digest, text in zip(hashes, texts, strict=True):
        if digest not in known:
            todo.setdefault(digest, text)
    stats = EmbedStats(embedded=len(todo), cached=len(texts) - len(todo))
    if todo:
        pending = sorted(todo.items(), key=lambda item: (len(item[1]), item[0]))
        encoder = encoder_factory()
        if progress is not None:
            progress.start("embed", len(pending))
        try:
            for start in range(0, len(pending), chunk_size):
                chunk = pending[start:start + chunk_size]
                vectors = encoder.encode([text for _, text in chunk])
                done = [(digest, vectors[i]) for i, (digest, _) in enumerate(chunk)]
                cache.put_many(MODEL_ID, done)
                known.update(done)
                if progress is not None:
                    progress.advance(len(chunk))
        finally:
            if progress is not None:
                progress.finish()
    matrix = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for i, digest in enumerate(hashes):
        matrix[i] = known[digest]
    stats.seconds = time.monotonic() - started
    return matrix, hashes, stats
