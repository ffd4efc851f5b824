"""A static embedding model distilled from the packaged MiniLM (model2vec's recipe).

Each vocabulary token goes through MiniLM once, as `[SEP] token [CLS]` (the
order model2vec found best), and its vector is the mean of the three output
states. The table is centred (PCA without reduction: the rotation would not
change a cosine) and each row is weighted by SIF over a Zipf estimate of the
token's frequency from its vocabulary rank. A text's vector is then the mean
of its tokens' rows, normalised: no network at all, some 100x faster than
MiniLM, but a different and weaker space, so queries must use it too.

The table (30522 x 384 float32, 47 MB) is built once per machine into the
user cache, named by the distillation version and the MiniLM weights' digest.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kenning.embed.cache import models_dir
from kenning.embed.model import DIMENSIONS, MODEL_NAME, model_path, token_ids, tokenizer
from kenning.embed.models import STATIC_DISTILL_VERSION as DISTILL_VERSION
from kenning.embed.models import STATIC_MAX_TOKENS as MAX_TOKENS

SIF_COEFFICIENT = 1e-4
_UNUSED = re.compile(r"\[unused\d+\]")


def static_table_path(cache_dir: Path | None = None) -> Path:
    """Where the distilled table for the installed weights is (or will be) kept."""
    from kenning.embed.onnx_encoder import weights_digest

    digest = weights_digest(model_path() / "model.safetensors")[:16]
    return models_dir(cache_dir) / f"{MODEL_NAME}-static{DISTILL_VERSION}-{digest}.npy"


def static_table_file(cache_dir: Path | None = None) -> Path:
    """The distilled table for the installed weights, built first if missing."""
    target = static_table_path(cache_dir)
    if target.is_file():
        return target
    folder = target.parent
    table = distill(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=target.name, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            np.save(out, table, allow_pickle=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def distill(cache_dir: Path | None = None) -> np.ndarray:
    from kenning.embed.onnx_encoder import OnnxEncoder

    encoder = OnnxEncoder(batch_size=512, cache_dir=cache_dir)
    vocab = tokenizer().get_vocab(with_added_tokens=True)
    size = len(vocab)
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    table = encoder.encode_ids([(sep, token, cls) for token in range(size)], "token_mean")
    used = np.array([not _UNUSED.fullmatch(token) for token, _ in
                     sorted(vocab.items(), key=lambda item: item[1])])
    table -= table[used].mean(axis=0, dtype=np.float64).astype(np.float32)
    rank_weight = 1.0 / np.arange(2, size + 2, dtype=np.float64)
    probability = rank_weight / rank_weight.sum()
    table *= (SIF_COEFFICIENT / (SIF_COEFFICIENT + probability)).astype(np.float32)[:, None]
    return table


class StaticEncoder:
    """encode(texts) -> float32 (n, 384), unit length: the mean of the texts' token rows."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        # memory-mapped: a query reads only its tokens' rows
        self.table = np.load(static_table_file(cache_dir), allow_pickle=False, mmap_mode="r")
        self.unknown = tokenizer().token_to_id("[UNK]")  # (get_vocab costs 0.1-0.4 s)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for i, sequence in enumerate(token_ids(texts, MAX_TOKENS, marks=False)):
            ids = np.asarray(sequence, dtype=np.int64)
            ids = ids[ids != self.unknown]  # as model2vec: an unknown token says nothing
            # a text of unknown tokens only keeps [UNK]'s row: every vector is unit length
            vector = self.table[ids if ids.size else [self.unknown]].mean(axis=0)
            out[i] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out
