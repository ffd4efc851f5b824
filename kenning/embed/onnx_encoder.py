"""The bulk MiniLM encoder: onnxruntime on a graph built from the packaged weights.

The graph (`onnx_graph.py`) is built once per machine into the user cache,
named by the graph version and the SHA-256 of the weights, and written
atomically (a temporary file, then a rename), so concurrent first runs are
safe and a new model package or graph version simply builds a new file.
Texts are tokenized as sentence-transformers does (truncation at the token
window, no fixed padding) and run in batches of texts with the same token
count: the graph has no attention mask, there is no padding to compute, and a
text's vector is the same bytes whichever texts share its batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kenning.embed.cache import models_dir
from kenning.embed.model import DIMENSIONS, MAX_TOKENS, MODEL_NAME, model_path, token_ids
from kenning.embed.onnx_graph import GRAPH_VERSION, build_model_bytes

BATCH_SIZE = 32
# A batch holds at most this many tokens (and at most BATCH_SIZE texts): 32 texts of
# 256 tokens kept ~0.9 GB of attention buffers alive for a whole fill; 4 at a time
# give the same bytes a little faster (flask's 7,155 texts, bench_batch_memory: peak
# RSS 364 MB against 1,074 MB, 66.0 s against 70.0 s)
TOKENS_PER_BATCH = 1024


def weights_digest(weights: Path) -> str:
    """SHA-256 of the weights file, remembered beside the built models by the file's
    path, size and mtime: hashing 90 MB cost a query process seconds on a busy machine."""
    stat = weights.stat()
    where = hashlib.sha256(str(weights.resolve()).encode()).hexdigest()[:16]
    memo = models_dir() / f"digest-{where}-{stat.st_size}-{stat.st_mtime_ns}.txt"
    with contextlib.suppress(OSError):
        known = memo.read_text().strip()
        if len(known) == 64:
            return known
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    with contextlib.suppress(OSError):  # only a shortcut: never fail for it
        memo.parent.mkdir(parents=True, exist_ok=True)
        handle_no, temporary = tempfile.mkstemp(dir=memo.parent, prefix=memo.name,
                                                suffix=".part")
        with os.fdopen(handle_no, "w") as out:
            out.write(digest.hexdigest())
        os.replace(temporary, memo)
    return digest.hexdigest()


def onnx_model_file(weights_dir: Path | None = None, cache_dir: Path | None = None) -> Path:
    """The ONNX file for the installed weights, built first if this machine lacks it."""
    weights_dir = weights_dir or model_path()
    weights = weights_dir / "model.safetensors"
    folder = models_dir(cache_dir)
    target = folder / f"{MODEL_NAME}-g{GRAPH_VERSION}-{weights_digest(weights)[:16]}.onnx"
    if target.is_file():
        return target
    from kenning.embed.numpy_encoder import read_safetensors

    data = build_model_bytes(read_safetensors(weights))
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=target.name, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class OnnxEncoder:
    """encode(texts) -> float32 (n, 384), unit length, equal to sentence-transformers'.

    One session, one thread per run, and as many runs at once as there are cores:
    on a shared 2-core machine that beat one run on two threads (whose workers
    spin while they wait for each other), and a batch's vectors never depend on
    which thread computed it.
    """

    def __init__(self, max_tokens: int = MAX_TOKENS, batch_size: int = BATCH_SIZE,
                 workers: int | None = None, cache_dir: Path | None = None) -> None:
        import onnxruntime

        weights_dir = model_path()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        # the graph is written fused already; onnxruntime's rewrites would only fold the
        # pooling's Transpose into its ReduceMean, which then sums a batch of one text in
        # another order than a batch of several (vectors differing in the last bits)
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = onnxruntime.InferenceSession(
            str(onnx_model_file(weights_dir, cache_dir)), options,
            providers=["CPUExecutionProvider"])
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.workers = workers or cores()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_ids(token_ids(texts, self.max_tokens))

    def batch_for(self, length: int) -> int:
        """How many texts of `length` tokens run in one batch."""
        return max(1, min(self.batch_size, TOKENS_PER_BATCH // max(length, 1)))

    def encode_ids(self, ids: Sequence[Sequence[int]],
                   output: str = "sentence_embedding") -> np.ndarray:
        """One `output` row per token sequence, in their order."""
        out = np.zeros((len(ids), DIMENSIONS), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, sequence in enumerate(ids):
            by_length.setdefault(len(sequence), []).append(i)
        # the longest first: the last batches to finish on each core are short ones
        batches = [rows[start:start + size]
                   for length, rows in sorted(by_length.items(), reverse=True)
                   for size in [self.batch_for(length)]
                   for start in range(0, len(rows), size)]

        def run(rows: list[int]) -> None:
            batch = np.array([ids[i] for i in rows], dtype=np.int32)
            out[rows] = self.session.run([output], {"input_ids": batch})[0]

        if self.workers == 1 or len(batches) == 1:
            for rows in batches:
                run(rows)
        else:  # onnxruntime releases the GIL while it runs
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(run, batches))
        return out
