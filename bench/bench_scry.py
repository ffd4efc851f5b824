"""scry latency: lexical and hybrid from the shell (cold), and warm in-process.

    .venv/bin/python -m bench.bench_scry [--docs 100000] [--repeat 5] [--db PATH]
                                         [--against OTHER_TREE] [--model NAME]

Builds a database with N searchable documents (one per event: commit-, note-
and code-like texts drawn Zipf-like from a 20,000-word vocabulary, seeded) and
unit vectors, through the real `documents` / FTS5 / `embeddings` tables, then
prints in one run, the shell commands interleaved round by round:
- baselines: `python -c pass`, `python -m kenning --help`;
- `kenning scry --mode lexical`, and `kenning scry` (hybrid, cold: a fresh process
  that loads the query encoder and maps the vectors from the matrix file), also with
  the matrix file removed first (the vectors read from SQLite, the file written);
- with --against, the lexical and hybrid commands of another checkout (PYTHONPATH),
  and the ratio of its time to this one's;
- warm per-query latency of each mode in one process (a Searcher reused).
Medians of --repeat runs with the fastest and slowest, and the load average before
and after. Vectors are random (latency does not depend on them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from kenning.embed.models import DEFAULT_MODEL
from kenning.scry.matrix import FILE_SUFFIX

ROOT = Path(__file__).resolve().parent.parent
# bytecode as a user's machine keeps it: a PYTHONDONTWRITEBYTECODE environment would
# make every cold run compile kenning again
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
_WORDS = ("database cache retry backoff parser session decision entity spawn world render "
         "config merge branch commit index search vector query token model schema store "
         "journal watermark rebuild incremental signal decay expert owner file path glob "
         "error timeout network request response client server thread lock queue worker "
         "event log order digest verify scrape recipe materialize table view column")
WORDS = _WORDS.split()
QUERIES = ["retry the request with backoff", "why did we drop the cache", "parser tokens",
           "schema migration for the store", "who owns the network client",
           "lock timeout in the worker queue", "vector search over embeddings",
           "rebuild after a recipe change"]


def build(path: Path, docs: int, model_name: str) -> None:
    from kenning.embed.models import embedding_model
    from kenning.eventlog import database
    from kenning.materialize import generation
    from kenning.materialize.embeddings import EmbeddingsMaterializer
    from kenning.materialize.fts import FtsMaterializer
    from kenning.materialize.tokens import index_text, path_text

    # random vectors labelled as the model's, so the query encoder is the real one
    chosen = embedding_model(model_name)
    model = chosen.model_id
    reranker = embedding_model(chosen.rerank) if chosen.rerank else None
    second = []  # a re-ranked model: its re-ranker's vectors, in the run's vector cache

    rng = random.Random(7)
    vrng = np.random.default_rng(7)
    # project words first, then made-up identifiers; word i drawn with weight 1/(i+1)
    vocab = list(WORDS) + [f"w{i}{chr(97 + i % 26)}x" for i in range(20_000 - len(WORDS))]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]

    def words(k: int) -> str:
        return " ".join(rng.choices(vocab, weights, k=k))

    conn = database.connect(path, write=True, create=True)
    with database.write_transaction(conn, path):
        database.ensure_schema(conn)
        FtsMaterializer().create(conn, {})
        EmbeddingsMaterializer().create(conn, {})
        kinds = [("commit", "git.commit"), ("session", "session.decision"),
                 ("code", "code.function")]
        rows, fts, vecs = [], [], []
        for n in range(docs):
            kind, etype = kinds[n % 3]
            title = words(6)
            body = title + "\n" + words(rng.randint(10, 60))
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1.6e9 + n * 600))
            file = f"src/m{n % 500}/f{n % 37}.py"
            text = index_text(title, body)
            code = kind == "code"  # a code document: its file, span and name
            file_words = path_text(file) if code else ""
            rows.append((n + 1, f"e{n:08d}", kind, etype, ts, f"s{n}", "Alice" if n % 2 else
                         "Bob", json.dumps([file]), title, body, text, file if code else None,
                         n % 400 + 1 if code else None, n % 400 + 20 if code else None,
                         title.split()[0] if code else None, file_words))
            fts.append((n + 1, title, file_words, text))
            v = vrng.standard_normal(384).astype(np.float32)
            vecs.append((f"e{n:08d}", model, f"h{n}", (v / np.linalg.norm(v)).tobytes()))
            if reranker is not None:
                w = vrng.standard_normal(384).astype(np.float32)
                second.append((f"h{n}", w / np.linalg.norm(w)))
        conn.executemany(
            "INSERT INTO documents(doc_id, event_id, kind, event_type, timestamp, source, "
            "author, paths, title, body, search_text, path, start_line, end_line, symbol, "
            "path_text) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT INTO documents_fts(rowid, title, path_text, search_text) "
                         "VALUES (?,?,?,?)", fts)
        conn.executemany("INSERT INTO embeddings VALUES (?,?,?,?)", vecs)
        # as a materialize run leaves them: the query process then maps the vectors
        # from the matrix file (scry/matrix.py) that the first query writes
        conn.execute(generation.DDL)
        generation.draw(conn, "fts")
        generation.draw(conn, "embeddings")
        conn.execute("CREATE TABLE bench_build(fts_version TEXT, model TEXT)")
        conn.execute("INSERT INTO bench_build VALUES (?, ?)",
                     (str(FtsMaterializer.version), model_name))
    conn.close()
    if reranker is not None:
        from kenning.embed.cache import VectorCache

        cache = VectorCache(vector_cache_home(path) / "kenning" / "vectors.sqlite")
        cache.put_many(reranker.vectors_id, second)
        cache.close()


def vector_cache_home(db: Path) -> Path:
    """The XDG_CACHE_HOME of a run on `db`: its re-ranker's vectors (random, as the
    database's) beside it, so a question computes none, as after a background fill."""
    return db.parent / (db.name + "-xdg")


def interleaved(runs: dict[str, tuple[list[str], dict[str, str]]], repeat: int,
                before: dict[str, Any] | None = None) -> dict[str, list[float]]:
    """Each labelled command (argv, environment) run `repeat` times, one round of all of
    them after another, so a change in the machine's load falls on every one alike;
    `before[label]()` runs ahead of each of its runs, untimed. Seconds per run. Each
    runs in the checkout its PYTHONPATH names (`python -m` puts the working directory
    first on sys.path)."""
    times: dict[str, list[float]] = {label: [] for label in runs}
    for cmd, env in runs.values():  # bytecode written once, outside the timing
        subprocess.run(cmd, env=env, cwd=env["PYTHONPATH"], check=True,
                       stdout=subprocess.DEVNULL)
    for _ in range(repeat):
        for label, (cmd, env) in runs.items():
            if before and label in before:
                before[label]()
            start = time.perf_counter()
            subprocess.run(cmd, env=env, cwd=env["PYTHONPATH"], check=True,
                           stdout=subprocess.DEVNULL)
            times[label].append(time.perf_counter() - start)
    return times


def spread(seconds: list[float]) -> str:
    ms = sorted(t * 1000 for t in seconds)
    return f"{statistics.median(ms):6.0f} ms  ({ms[0]:.0f}-{ms[-1]:.0f})"


def _current(db: Path, model_name: str) -> bool:
    """Whether `db` was built for today's search index and this model (build() records
    both)."""
    from kenning.eventlog import database
    from kenning.materialize.fts import FtsMaterializer

    conn = database.connect(db, write=False)
    try:
        row = conn.execute("SELECT fts_version, model FROM bench_build").fetchone()
    except Exception:  # no such table or column: built before builds were labelled
        row = None
    finally:
        conn.close()
    return row is not None and (str(row[0]), row[1]) == (str(FtsMaterializer.version),
                                                          model_name)


def ensure_built(db: Path, docs: int, model_name: str) -> None:
    """The generated database at `db`, built now unless a previous run kept one that
    today's search index can read, for this model (another is built again)."""
    if db.exists() and not _current(db, model_name):
        print(f"{db} was built by an older kenning or for another model: building it again")
        for stale in db.parent.glob(db.name + "*"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    if not db.exists():
        started = time.perf_counter()
        build(db, docs, model_name)
        print(f"built {docs:,} documents + vectors in "
              f"{time.perf_counter() - started:.1f}s ({db.stat().st_size / 1e6:.0f} MB)")


def prepare(db: Path, docs: int, model_name: str) -> None:
    """The database at `db` (built now, or kept from a previous run), and this process
    and ENV pointed at its vector cache (a re-ranker's vectors); the built model files
    stay where they are."""
    from kenning.embed.cache import models_dir

    ensure_built(db, docs, model_name)
    ENV["KENNING_MODELS_DIR"] = str(models_dir())
    ENV["XDG_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"] = str(vector_cache_home(db))
    print(f"model: {model_name}")


def model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="the embedding model the vectors are labelled with (default: "
                        "kenning's default); a re-ranked one gets its re-ranker's vectors "
                        "in a vector cache of the run's own")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None,
                        help="keep the generated database here and reuse it next time")
    parser.add_argument("--against", type=Path, default=None,
                        help="another kenning checkout whose shell queries run interleaved")
    model_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        prepare(db, args.docs, args.model)
        py = [sys.executable]
        q = QUERIES[0]
        scry = ["-m", "kenning", "scry", q, "--db", str(db)]
        runs = {
            "python -c pass": ([*py, "-c", "pass"], ENV),
            "kenning --help": ([*py, "-m", "kenning", "--help"], ENV),
            "scry --mode lexical": ([*py, *scry, "--mode", "lexical"], ENV),
            "scry (hybrid, cold)": ([*py, *scry], ENV),
            "scry (hybrid, cold, no matrix file)": ([*py, *scry], ENV),
            "scry --mode semantic (cold)": ([*py, *scry, "--mode", "semantic"], ENV),
        }
        if args.against:
            other = {**ENV, "PYTHONPATH": str(args.against.resolve())}
            runs["against: scry --mode lexical"] = ([*py, *scry, "--mode", "lexical"], other)
            runs["against: scry (hybrid, cold)"] = ([*py, *scry], other)
        matrix_file = Path(str(db) + FILE_SUFFIX)
        # the file removed before the run: the vectors read from SQLite, the file written
        forget = {"scry (hybrid, cold, no matrix file)":
                  lambda: matrix_file.unlink(missing_ok=True)}
        print(f"load before: {os.getloadavg()[0]:.2f}")
        shell_times = interleaved(runs, args.repeat, forget)
        targets = {"scry --mode lexical": "target <= 300", "scry (hybrid, cold)": "target <= 500"}
        for label, seconds in shell_times.items():
            note = f"  ({targets[label]})" if label in targets else ""
            print(f"shell  {label:<38} {spread(seconds)}{note}")
        for label in ("scry --mode lexical", "scry (hybrid, cold)"):
            if "against: " + label in shell_times:
                ratio = (statistics.median(shell_times["against: " + label])
                         / statistics.median(shell_times[label]))
                print(f"       {label}: the other tree takes {ratio:.2f}x this one's time")
        print(f"load after: {os.getloadavg()[0]:.2f}")

        from kenning.eventlog import database
        from kenning.scry.search import Searcher

        searcher = Searcher(database.connect(db, write=False))
        for mode in ("lexical", "semantic", "hybrid"):
            searcher.search(q, mode=mode)  # load once
            times = []
            for _ in range(args.repeat):
                for query in QUERIES:
                    start = time.perf_counter()
                    searcher.search(query, mode=mode)
                    times.append((time.perf_counter() - start) * 1000)
            print(f"warm      {mode:<9} per query  p50 {statistics.median(times):6.1f} ms  "
                  f"p95 {np.percentile(times, 95):6.1f} ms  (target hybrid < 50)")


if __name__ == "__main__":
    main()
