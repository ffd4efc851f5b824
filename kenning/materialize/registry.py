"""The registry of materializers, in the order they run."""

from __future__ import annotations

import importlib

from kenning.errors import KenningError
from kenning.materialize.base import Materializer

# name -> "module:Class"; imported only when that materializer runs or is inspected.
MATERIALIZERS: dict[str, str] = {
    "views": "kenning.materialize.views:ViewsMaterializer",
    "fts": "kenning.materialize.fts:FtsMaterializer",
    "co_changes": "kenning.materialize.co_changes:CoChangesMaterializer",
    "expertise": "kenning.materialize.expertise:ExpertiseMaterializer",
    "signals": "kenning.materialize.signals:SignalsMaterializer",
    "embeddings": "kenning.materialize.embeddings:EmbeddingsMaterializer",
}


def load(name: str) -> Materializer:
    if name not in MATERIALIZERS:
        raise KenningError(
            f"unknown materializer {name!r}; choose from {', '.join(MATERIALIZERS)}"
        )
    module, _, cls = MATERIALIZERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]
