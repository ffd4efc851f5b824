"""Peak memory and time of the bulk encoder: batches bounded by tokens (kenning's)
against fixed batches of 32 texts (before 2026-12-03), each run in a fresh process.

    .venv/bin/python -m bench.bench_batch_memory --db /tmp/flask/.kenning/kenning.db
        [--limit N] [--repeat 3]

Every run encodes the distinct document bodies of the database (what a fill or a
`minilm` scrape embeds) with `OnnxEncoder`, in a child process, and reports its peak
resident memory (the process's whole, model and texts included), its encoding time
and a digest of the vectors: the two ways must give the same bytes. The runs are
interleaved round by round; the machine is shared, so compare within one run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def child(db: Path, limit: int, fixed: bool) -> None:
    from bench.bench_embed import database_texts
    from kenning.embed.onnx_encoder import OnnxEncoder

    texts = database_texts(db, limit)
    encoder = OnnxEncoder()
    if fixed:
        encoder.batch_for = lambda length: encoder.batch_size  # type: ignore[method-assign]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    seconds = time.perf_counter() - started
    print(json.dumps({"texts": len(texts), "seconds": seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "before_mb": before / 1024,
                      "digest": hashlib.sha256(vectors.tobytes()).hexdigest()[:16]}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", choices=("tokens", "fixed"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.db, args.limit, args.child == "fixed")
        return
    ways = {"fixed 32 texts (before)": "fixed", "at most 1024 tokens": "tokens"}
    seen: dict[str, list[dict[str, float | str]]] = {name: [] for name in ways}
    for round_ in range(1, args.repeat + 1):
        for name, way in ways.items():
            out = subprocess.run(
                [sys.executable, "-m", "bench.bench_batch_memory", "--db", str(args.db),
                 "--limit", str(args.limit), "--child", way],
                capture_output=True, text=True, check=True).stdout
            run = json.loads(out.strip().splitlines()[-1])
            seen[name].append(run)
            print(f"  round {round_} {name:<24} {run['seconds']:6.1f} s  peak "
                  f"{run['peak_mb']:6.0f} MB (before encoding {run['before_mb']:.0f} MB)  "
                  f"vectors {run['digest']}; load {os.getloadavg()[0]:.2f}", flush=True)
    for name, runs in seen.items():
        secs = [float(r["seconds"]) for r in runs]
        peaks = [float(r["peak_mb"]) for r in runs]
        print(f"{name:<24} {runs[0]['texts']} texts: median {statistics.median(secs):.1f} s "
              f"({min(secs):.1f}-{max(secs):.1f}), peak median {statistics.median(peaks):.0f} MB "
              f"({min(peaks):.0f}-{max(peaks):.0f})")
    digests = {str(r["digest"]) for runs in seen.values() for r in runs}
    before, after = (statistics.median(float(r["seconds"]) for r in runs)
                     for runs in seen.values())
    print(f"time, tokens against fixed: {after / before:.2f}x; the same vectors in every run: "
          f"{len(digests) == 1}")


if __name__ == "__main__":
    main()
