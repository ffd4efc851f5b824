"""Embedding speed: the bulk encoder against sentence-transformers, and first scrapes.

    .venv/bin/python -m bench.bench_embed throughput --db /tmp/flask.db [--limit N] [--repeat 3]
    .venv/bin/python -m bench.bench_embed scrape --repo /tmp/flask [--models static-rerank,minilm]
        [--queries]

`throughput` takes the document bodies of a scraped database (what the
embeddings materializer embeds) and times, interleaved in every round:
- sentence-transformers `model.encode(texts, batch_size=32)` on torch (the
  baseline; needs the `reference` extra);
- the bulk encoder alone (`OnnxEncoder.encode`, the raw backend);
- kenning's path, `embed_texts()` into an empty vector cache (hash, cache
  lookup, length-sorted chunks, encode, cache writes) -- target >= 0.95x the raw
  backend's rate, and the backend >= 2x sentence-transformers'.

`scrape` clones the repository to a temporary folder and times, per round,
`kenning scrape --no-embed` (the baseline) and `kenning scrape` with each
embedding model chosen in the recipe, every run into a new database with an
empty vector cache and parse cache (the built model files are kept: they are
built once per machine, and their build is timed once, apart). Target: the
default model's first scrape <= 2x the --no-embed one. It also says when the
search index was committed (a reader polling the database), from which moment
lexical answers work while the vectors are still being made. A re-ranked model
(`static-rerank`) makes its MiniLM vectors in a background process after the scrape:
the run waits for it (so that it does not slow the next run) and says when it ended.
With `--queries`, three hybrid questions are asked from the shell right after the
scrape (while that fill runs: each makes its candidates' MiniLM vectors itself) and
again after it.

Every figure prints with its rounds' spread and the load average before and
after: the machine is shared, so compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import apsw

from kenning.processes import alive

QUERIES = ("how are blueprints registered on the application",
           "where is the request context pushed",
           "why was the json provider changed")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def spread(times: list[float]) -> str:
    return f"median {statistics.median(times):7.2f} s  (min {min(times):.2f}, max {max(times):.2f})"


def database_texts(db: Path, limit: int = 0) -> list[str]:
    """The distinct document bodies of a scraped database (what a bulk run embeds), or
    `limit` of them spread evenly over their sorted order."""
    conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
    texts = sorted({str(r[0]) for r in conn.execute(
        "SELECT body FROM documents WHERE trim(body) != ''")})
    conn.close()
    return texts[::max(1, len(texts) // limit)][:limit] if limit else texts


def throughput(args: argparse.Namespace) -> None:
    texts = database_texts(args.db, args.limit)
    from kenning.embed.cache import VectorCache
    from kenning.embed.encode import embed_texts
    from kenning.embed.onnx_encoder import OnnxEncoder
    from kenning.embed.reference import SentenceTransformerEncoder

    print(f"{len(texts)} distinct texts from {args.db} "
          f"(mean {sum(map(len, texts)) / len(texts):.0f} chars); {load()}")
    started = time.perf_counter()
    ours = OnnxEncoder()
    print(f"onnxruntime encoder ready in {time.perf_counter() - started:.2f} s "
          "(ONNX file already built)")
    started = time.perf_counter()
    st = SentenceTransformerEncoder()
    print(f"sentence-transformers ready in {time.perf_counter() - started:.2f} s (import + load)")
    ours.encode(texts[:64])
    st.encode(texts[:64])  # warm-up

    def kenning_path() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            embed_texts(texts, cache=VectorCache(Path(tmp) / "c.sqlite"),
                        encoder_factory=lambda: ours)

    runs: dict[str, Callable[[], object]] = {
        "sentence-transformers": lambda: st.model.encode(
            texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False),
        "onnxruntime (raw)": lambda: ours.encode(texts),
        "kenning embed_texts": kenning_path,
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    n = len(texts)
    for round_ in range(1, args.repeat + 1):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
            print(f"  round {round_} {name:<24} {times[name][-1]:7.2f} s; {load()}", flush=True)
    for name, ts in times.items():
        print(f"{name:<24} {spread(ts)}  {n / statistics.median(ts):7.1f} texts/s")
    st_t, raw_t, ours_t = (statistics.median(t) for t in times.values())
    print(f"onnxruntime vs sentence-transformers: {st_t / raw_t:.2f}x (target >= 2); "
          f"kenning vs its raw backend: {raw_t / ours_t:.3f}x (target >= 0.95); {load()}")


def scrape(args: argparse.Namespace) -> None:
    kenning = [sys.executable, "-m", "kenning"]
    models = args.models.split(",")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "repo"
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(args.repo), str(repo)],
                       check=True)
        from kenning.embed.cache import models_dir
        from kenning.embed.models import embedding_model

        for name in models:  # build each model file once (a one-off per machine)
            started = time.perf_counter()
            embedding_model(name).bulk_encoder()
            second = embedding_model(name).rerank
            if second is not None:  # its re-ranker's model file too
                embedding_model(second).bulk_encoder()
            print(f"build/load {name:<14} {time.perf_counter() - started:6.2f} s (once per "
                  "machine)")
        built = models_dir()  # copied into every run's empty cache

        def ask(db: Path, cache: Path) -> list[float]:
            """Seconds of each QUERIES question from the shell, in order."""
            took = []
            for query in QUERIES:
                started = time.perf_counter()
                subprocess.run([*kenning, "scry", query, "--json", "--db", str(db)], cwd=repo,
                               capture_output=True, env={**os.environ, "XDG_CACHE_HOME":
                                                         str(cache)}, check=True)
                took.append(time.perf_counter() - started)
            return took

        def run(model: str | None) -> tuple[float, dict[str, object]]:
            cache = tmp / "cache"
            shutil.rmtree(cache, ignore_errors=True)
            shutil.copytree(built, cache / "kenning" / "models")
            (repo / ".kenning").mkdir(exist_ok=True)
            recipe = repo / ".kenning" / "recipe.toml"
            recipe.write_text(f'[materialize.embeddings]\nmodel = "{model or "minilm"}"\n')
            db = tmp / "run.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            command = [*kenning, "scrape", "--json", "--db", str(db)]
            if model is None:
                command.append("--no-embed")
            started = time.perf_counter()
            proc = subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True,
                                    env={**os.environ, "XDG_CACHE_HOME": str(cache)})
            ready = None  # when the search index was committed: lexical answers from then on
            while proc.poll() is None:
                if ready is None and _index_committed(db):
                    ready = time.perf_counter() - started
                time.sleep(0.2)
            out = proc.stdout.read() if proc.stdout else ""
            seconds = time.perf_counter() - started
            if proc.returncode:
                raise SystemExit(f"kenning scrape exited {proc.returncode}")
            report = json.loads(out)
            details = {r["name"]: r.get("details", {}) for r in report["materialized"]}
            figures = dict(details.get("embeddings") or {})
            figures["index ready"] = ready if ready is not None else seconds
            if model is not None and args.queries:  # while a re-ranker's fill runs, if any
                figures["cold"] = ask(db, cache)
            pid = (report.get("background") or {}).get("pid")
            if pid is not None:  # the background fill: waited for, so no run competes with it
                while alive(pid):
                    time.sleep(0.2)
                figures["fill done"] = time.perf_counter() - started - seconds
                figures["fill vectors"] = report["background"]["vectors"]
            if model is not None and args.queries:
                figures["warm"] = ask(db, cache)
            return seconds, figures

        print(f"{args.repo}: {args.repeat} rounds, interleaved; {load()}")
        times: dict[str, list[float]] = {"--no-embed": [], **{m: [] for m in models}}
        figures: dict[str, dict[str, object]] = {}
        for round_ in range(1, args.repeat + 1):
            times["--no-embed"].append(run(None)[0])
            print(f"  round {round_} --no-embed {times['--no-embed'][-1]:7.2f} s; {load()}",
                  flush=True)
            for m in models:
                seconds, figures[m] = run(m)
                times[m].append(seconds)
                print(f"  round {round_} {m} {seconds:7.2f} s; {load()}", flush=True)
        base = statistics.median(times["--no-embed"])
        print(f"{'scrape --no-embed':<24} {spread(times['--no-embed'])}")
        for m in models:
            print(f"{'  search index ready':<24} after {figures[m]['index ready']:.1f} s "
                  "(last round): lexical answers from then on")
            embedded, took = figures[m].get("embedded", 0), float(figures[m].get("seconds", 0))
            rate = f"{float(embedded) / took:8.1f} texts/s" if took else ""  # type: ignore[arg-type]
            print(f"{'scrape, model ' + m:<24} {spread(times[m])}  "
                  f"{statistics.median(times[m]) / base:5.2f}x --no-embed; embedded {embedded} "
                  f"in {took:.1f} s {rate}")
            if "fill done" in figures[m]:
                print(f"{'  background fill':<24} {figures[m]['fill vectors']} re-ranking "
                      f"vectors, done {figures[m]['fill done']:.1f} s after the scrape "
                      "(last round)")
            if "cold" in figures[m]:
                cold, warm = figures[m]["cold"], figures[m]["warm"]
                print(f"{'  first hybrid scry':<24} right after the scrape "
                      f"{' '.join(f'{t:.2f}' for t in cold)} s; after the fill "  # type: ignore[union-attr]
                      f"{' '.join(f'{t:.2f}' for t in warm)} s (last round)")  # type: ignore[union-attr]
        print(load())


def _index_committed(db: Path) -> bool:
    """Whether a reader sees the fts materializer's state: its transaction committed."""
    try:
        conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error:
        return False  # not created yet
    try:
        return conn.execute("SELECT 1 FROM materializer_state WHERE name = 'fts'"
                            ).fetchone() is not None
    except apsw.Error:
        return False  # no state table yet, or busy
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("throughput")
    one.add_argument("--db", type=Path, required=True)
    one.add_argument("--limit", type=int, default=0)
    one.add_argument("--repeat", type=int, default=3)
    two = sub.add_parser("scrape")
    two.add_argument("--repo", type=Path, required=True)
    two.add_argument("--models", default="static-rerank,minilm,minilm-64,minilm-brief,static")
    two.add_argument("--repeat", type=int, default=2)
    two.add_argument("--queries", action="store_true",
                     help="after each embedding scrape, time QUERIES from the shell, with the "
                     "run's cold vector cache and then again")
    args = parser.parse_args()
    throughput(args) if args.what == "throughput" else scrape(args)


if __name__ == "__main__":
    main()
