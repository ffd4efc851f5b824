"""Build the model files once, ahead of the first scrape (e.g. at install time).

    python -m kenning.embed.build

builds the ONNX graph of the packaged MiniLM and the static table distilled from it
(about a minute on two cores) into `models_dir()`: $KENNING_MODELS_DIR, or the user
cache. Without it, the first scrape that needs a file builds it there.
"""

from __future__ import annotations

import time


def main() -> None:
    from kenning.embed.onnx_encoder import onnx_model_file
    from kenning.embed.static import static_table_file

    for name, build in (("onnx graph", onnx_model_file), ("static table", static_table_file)):
        started = time.monotonic()
        path = build()
        print(f"{name}: {path} ({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
