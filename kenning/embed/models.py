"""The embedding models a recipe can choose (`[materialize.embeddings] model = ...`).

Each is a point between speed and quality, all from the one packaged MiniLM:
- `minilm`: exact all-MiniLM-L6-v2 over 256 tokens (onnxruntime in bulk, the numpy
  encoder for a query);
- `minilm-128`, `minilm-64`: the same model over a shorter window (less work per text);
- `minilm-brief`: code symbols embed their name, signature and doc comment only,
  not the body excerpt;
- `static`: the static model distilled from MiniLM (`static.py`), for documents and
  queries alike;
- `static-rerank`: static vectors for every document (as `static`, the same cached
  vectors), and at query time MiniLM re-scores the static pass's best candidates
  (`kenning/scry/semantic.py`): each candidate's MiniLM vector comes from the vector
  cache, or is computed once, exactly as `minilm` computes it, and cached.
`model_id` names what a point stores: it is stored with every row of `embeddings`, so
a query is encoded by the model that made the documents' vectors. `cache_id` keys the
vector cache (with the text's hash): the vectors themselves, shared by the points
that make the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kenning.errors import KenningError

if TYPE_CHECKING:
    import numpy as np

    from kenning.embed.encode import Encoder

# static-rerank is the default: a first scrape of flask takes 1.5x the --no-embed one
# (minilm: 17x), at the same quality within the benchmarks' bootstrap intervals
# (semble's 13 repositories, plain NDCG@10 .861 vs .860; flask's held-out questions,
# hybrid MRR .454 vs .463). What it costs, the MiniLM vector of every candidate a
# question re-ranks, is made in the background after the scrape (fill.py); until that
# is done (about two minutes for flask) a question makes its own candidates' (15-25 s
# there). `minilm` embeds every document with MiniLM during the scrape instead.
DEFAULT_MODEL = "static-rerank"
# here, not in static.py, so that naming a model (recipe checks) never loads numpy
STATIC_DISTILL_VERSION = 1  # bump when the distillation changes the table
STATIC_MAX_TOKENS = 512  # a static model has no window; this only bounds the work per text
_bulk_encoders: dict[str, Encoder] = {}


@dataclass(frozen=True)
class EmbeddingModel:
    name: str  # the recipe's value
    model_id: str  # the vectors' identity: cache key and `embeddings.model`
    static: bool = False
    max_tokens: int = 256
    brief_code: bool = False  # code symbols: name, signature and doc comment only
    rerank: str | None = None  # the model whose vectors re-score the best candidates
    cache_id: str = ""  # the stored vectors' id in the cache; model_id when empty

    @property
    def vectors_id(self) -> str:
        """The id of the vectors this point stores, in the vector cache."""
        return self.cache_id or self.model_id

    def bulk_encoder(self) -> Encoder:
        """The encoder for many texts, loaded once per process."""
        if self.vectors_id not in _bulk_encoders:
            if self.static:
                from kenning.embed.static import StaticEncoder

                _bulk_encoders[self.vectors_id] = StaticEncoder()
            else:
                from kenning.embed.onnx_encoder import OnnxEncoder

                _bulk_encoders[self.vectors_id] = OnnxEncoder(max_tokens=self.max_tokens)
        return _bulk_encoders[self.vectors_id]

    def query_encoder(self, long_lived: bool = False) -> Encoder:
        """The encoder for one query at a time. A transformer's is numpy for a process
        that answers a question or two (it starts in 0.1 s, onnxruntime in 0.3 s) and
        onnxruntime for one that keeps answering (7 ms a query instead of 22): their
        vectors agree to a cosine of 0.9999996 or closer."""
        if self.rerank is not None:
            second = embedding_model(self.rerank).query_encoder(long_lived)
            return PairEncoder(self.bulk_encoder(), second)
        if self.static:
            return self.bulk_encoder()
        if long_lived:
            from kenning.embed.onnx_encoder import OnnxEncoder

            return OnnxEncoder(max_tokens=self.max_tokens, batch_size=1, workers=1)
        from kenning.embed.numpy_encoder import NumpyEncoder

        return NumpyEncoder(max_tokens=self.max_tokens)


def _minilm(name: str, max_tokens: int = 256, brief_code: bool = False) -> EmbeddingModel:
    return EmbeddingModel(name, f"all-MiniLM-L6-v2@{max_tokens}", max_tokens=max_tokens,
                          brief_code=brief_code)


class PairEncoder:
    """A re-ranked point's query vector: its first pass's and its re-ranker's query
    vectors end to end (2 x DIMENSIONS); the semantic index splits them."""

    def __init__(self, first: Encoder, second: Encoder) -> None:
        self.first, self.second = first, second

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import numpy

        return numpy.concatenate([self.first.encode(texts), self.second.encode(texts)], axis=1)


_STATIC_ID = f"all-MiniLM-L6-v2-static{STATIC_DISTILL_VERSION}"
MODELS: dict[str, EmbeddingModel] = {m.name: m for m in (
    _minilm("minilm"),
    _minilm("minilm-128", 128),
    _minilm("minilm-64", 64),
    _minilm("minilm-brief", brief_code=True),
    EmbeddingModel("static", _STATIC_ID, static=True, max_tokens=STATIC_MAX_TOKENS),
    EmbeddingModel("static-rerank", f"{_STATIC_ID}>all-MiniLM-L6-v2@256", static=True,
                   max_tokens=STATIC_MAX_TOKENS, rerank="minilm", cache_id=_STATIC_ID),
)}


def embedding_model(name: str) -> EmbeddingModel:
    try:
        return MODELS[name]
    except KeyError:
        raise KenningError(f"unknown embedding model {name!r} (recipe key "
                           f"materialize.embeddings.model); choose from "
                           f"{', '.join(MODELS)}") from None


def model_for_vectors(model_id: str) -> EmbeddingModel:
    """The model that made vectors with this id (for encoding a query the same way)."""
    for m in MODELS.values():
        if m.model_id == model_id:
            return m
    raise KenningError(f"the embeddings were made by {model_id!r}, which this kenning does "
                       "not know; run `kenning materialize embeddings --rebuild`")
