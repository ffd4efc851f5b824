"""Embedding throughput of the materializer path against the model's own encode.

    .venv/bin/python -m bench.bench_embed --db /tmp/self.db [--limit 600] [--repeat 2]

Takes the document bodies of a scraped database (what the embeddings
materializer embeds) and, with one loaded sentence-transformers model, times in
the same run:
- direct:  model.encode(texts, batch_size=32) (the baseline);
- kenning: embed_texts() into an empty cache (hash, cache lookup, length-sorted
  chunks, encode, cache writes);
- rebuild: embed_texts() again on the filled cache (must embed zero texts);
- query:   one short query through the numpy encoder vs sentence-transformers.
Medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import apsw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    conn = apsw.Connection(str(args.db))
    texts = [r[0] for r in conn.execute(
        "SELECT body FROM documents ORDER BY doc_id LIMIT ?", (args.limit,))]
    from kenning.embed.cache import VectorCache
    from kenning.embed.encode import SentenceTransformerEncoder, embed_texts
    from kenning.embed.numpy_encoder import NumpyEncoder

    st = SentenceTransformerEncoder()
    st.encode(texts[:32])  # warm-up
    direct, ours, again = [], [], []
    embedded = cached = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        st.model.encode(texts, batch_size=32, normalize_embeddings=True,
                        show_progress_bar=False)
        direct.append(time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as tmp:
            cache = VectorCache(Path(tmp) / "c.sqlite")
            start = time.perf_counter()
            embed_texts(texts, cache=cache, encoder_factory=lambda: st)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            _, _, stats = embed_texts(texts, cache=cache, encoder_factory=lambda: st)
            again.append(time.perf_counter() - start)
            embedded, cached = stats.embedded, stats.cached
    n = len(texts)
    d, o, a = statistics.median(direct), statistics.median(ours), statistics.median(again)
    print(f"{n} texts from {args.db} (mean {sum(map(len, texts)) / n:.0f} chars)")
    print(f"direct   model.encode        {d:7.2f} s  {n / d:7.1f} texts/s")
    print(f"kenning  embed_texts (cold)  {o:7.2f} s  {n / o:7.1f} texts/s  "
          f"ratio {d / o:.3f} of direct (target >= 0.90)")
    print(f"rebuild  embed_texts (warm)  {a:7.2f} s  embedded {embedded}, from cache {cached}")
    numpy_encoder = NumpyEncoder()
    query = ["why did we move off separate databases"]
    for name, encode in (("numpy", numpy_encoder.encode), ("sentence-transformers", st.encode)):
        encode(query)
        times = []
        for _ in range(20):
            start = time.perf_counter()
            encode(query)
            times.append((time.perf_counter() - start) * 1000)
        print(f"query    {name:<22} p50 {statistics.median(times):6.1f} ms")


if __name__ == "__main__":
    main()
