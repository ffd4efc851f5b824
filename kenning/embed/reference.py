"""sentence-transformers on torch: the reference the tests and benchmarks compare with.

Not used by kenning itself; it needs the `reference` extra
(`pip install 'kenning[reference]'`), and importing it costs about five seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kenning.embed.model import MAX_TOKENS, model_path


class SentenceTransformerEncoder:
    def __init__(self, batch_size: int = 32, max_tokens: int = MAX_TOKENS) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(model_path()), device="cpu")
        self.model.max_seq_length = max_tokens

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
