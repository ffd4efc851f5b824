"""All-MiniLM-L6-v2 in plain numpy: the query encoder for a cold `kenning scry`.

Importing sentence-transformers costs about five seconds; one query vector
needs a 6-layer BERT forward pass over a dozen tokens. This module runs that
pass from the very same safetensors weights (memory-mapped, so only the rows
and matrices used are read), with the same tokenizer settings as
sentence-transformers (truncation 256, no fixed padding), mean pooling and L2
normalisation. A test holds it to cosine >= 0.9999 against sentence-transformers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kenning.embed.blas import one_blas_thread
from kenning.embed.model import DIMENSIONS, MAX_TOKENS, model_path, token_ids

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Memory-map every tensor of a safetensors file (header: u64 length + JSON)."""
    with path.open("rb") as handle:
        (length,) = np.frombuffer(handle.read(8), dtype="<u8")
        header: dict[str, Any] = json.loads(handle.read(int(length)))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + int(length))
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = np.dtype(_DTYPES[spec["dtype"]]).newbyteorder("<")
        tensors[name] = raw[start:end].view(dtype).reshape(spec["shape"])
    return tensors


def _erf(x: np.ndarray) -> np.ndarray:
    # numpy has no erf; Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7) keeps
    # BERT's exact GELU within float32 noise, unlike the tanh approximation.
    sign = np.sign(x)
    a = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                           + t * 1.061405429))))
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _dense(name: str, tensor: np.ndarray) -> bool:
    return name.startswith("encoder.") and name.endswith(".weight") and tensor.ndim == 2


class NumpyEncoder:
    """encode(texts) -> float32 (n, 384), unit length, like SentenceTransformer.encode."""

    heads = 12
    layers = 6

    def __init__(self, path: Path | None = None, max_tokens: int = MAX_TOKENS) -> None:
        path = path or model_path()
        mapped = read_safetensors(path / "model.safetensors")
        # Every tensor stays memory-mapped (a query reads only the embedding rows it
        # uses); a dense layer's (out, in) matrix is used as its transposed view, which
        # BLAS multiplies in place: copying the 22 MB of layers took 60-90 ms of a
        # cold query and made no query faster.
        self.w: dict[str, np.ndarray] = {
            name: tensor.T if _dense(name, tensor) else tensor
            for name, tensor in mapped.items()}
        self.max_tokens = max_tokens

    def encode(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with one_blas_thread():
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        sequences = token_ids(texts, self.max_tokens)
        ids = np.zeros((len(texts), max(map(len, sequences))), dtype=np.int64)  # [PAD] is 0
        mask = np.zeros(ids.shape, dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, :len(sequence)] = sequence
            mask[row, :len(sequence)] = 1.0
        types = np.zeros_like(ids)
        hidden = self._forward(ids, types, mask)
        summed = (hidden * mask[:, :, None]).sum(1)
        pooled = summed / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def _forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head_dim = DIMENSIONS // self.heads
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for n in range(self.layers):
            p = f"encoder.layer.{n}."

            def dense(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return h @ w[p + name + ".weight"] + w[p + name + ".bias"]  # (in, out)

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(batch, length, self.heads, head_dim).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSIONS)
            x = _layer_norm(x + dense(context, "attention.output.dense"),
                            w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"])
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(x + dense(inner, "output.dense"),
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        return x.astype(np.float32)
