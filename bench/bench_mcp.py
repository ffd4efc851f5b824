"""Hybrid search through `kenning mcp`, through the Python handle, and in-process.

    .venv/bin/python -m bench.bench_mcp [--docs 100000] [--repeat 5] [--starts 5] [--db PATH]
                                        [--against OTHER_TREE] [--starts-only] [--model NAME]

On the 100k-document database of bench/bench_scry.py (built once, or reused with
--db), bound to a one-commit repository so the server follows HEAD exactly as in real
use (its per-call HEAD check is part of every figure), it prints in one run:
- warm hybrid query latency, interleaved query by query: the baseline (a
  `kenning.scry.search.Searcher` in this process), the Python handle
  (`kenning.open(...).scry`), and an MCP `tools/call scry` round trip to a
  `python -m kenning mcp` subprocess through the SDK's own client (targets: handle
  p50 <= 40 ms, MCP p50 <= 50 ms);
- start to first answer: a fresh `kenning mcp` from spawn to its first hybrid answer,
  interleaved with its baseline, a fresh `python` that opens a Searcher and answers the
  same query (target <= 1 s), and with a fresh `python` that only imports the MCP SDK's
  server (the floor of any server built on the SDK);
- with --against (another kenning checkout, e.g. main's), the same fresh starts of that
  tree's server interleaved with this one's, and a check that both answer byte-identically;
- the machine load (`uptime`) before and after, since both cores are shared.

Every start is split into spawn to `initialize` answered, and spawn to the first `scry`
answered (the figure the target is about).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

# before bench_scry loads numpy: one BLAS thread, as every kenning query runs (the
# server's too); otherwise this process alone would get a pool
import kenning.scry  # noqa: F401
from bench.bench_scry import ENV, QUERIES, ROOT, model_option, prepare
from fixtures.builder import RepoBuilder

COLD_BASELINE = """
import sys
from pathlib import Path
from kenning.eventlog import database
from kenning.scry.search import Searcher
Searcher(database.connect(Path(sys.argv[1]), write=False)).search(sys.argv[2])
"""
# the floor of any server on the SDK: a fresh python importing what `kenning mcp` uses
SDK_IMPORT = "import mcp.server.mcpserver"


def bind_to_repository(db: Path, repo: Path) -> None:
    """A one-commit repository whose HEAD the database says it stands at (its random
    vectors are labelled with --model's id, so the query encoder is the real one)."""
    from kenning.eventlog import database, state

    head = RepoBuilder(repo).commit("bench", "2024-01-01T00:00:00+00:00", {"a.txt": "a\n"})
    conn = database.connect(db, write=True)
    with database.write_transaction(conn, db):
        state.mark_scraped(conn, "git", head, head)
    conn.close()


def server(repo: Path, db: Path, root: Path = ROOT) -> StdioServerParameters:
    """`kenning mcp` of the checkout at `root` (this one by default)."""
    return StdioServerParameters(command=sys.executable, cwd=str(repo),
                                 env={**ENV, "PYTHONPATH": str(root)},
                                 args=["-m", "kenning", "mcp", "--repo", str(repo),
                                       "--db", str(db)])


def summary(name: str, ms: list[float], target: str = "") -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (f"{name:<34} p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f}  "
            f"min {ms[0]:7.1f}  max {ms[-1]:7.1f}  n={len(ms)}  {target}")


async def warm(repo: Path, db: Path, repeat: int) -> dict[str, list[float]]:
    import kenning
    from kenning.eventlog import database
    from kenning.scry.search import Searcher

    # all three as a process that keeps answering: the query encoder that starts slower
    searcher = Searcher(database.connect(db, write=False), long_lived=True)
    times: dict[str, list[float]] = {"baseline": [], "handle": [], "mcp": []}
    with kenning.open(repo, db) as k:
        k.warm_up()
        async with stdio_client(server(repo, db)) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            for query in QUERIES:  # everything loaded and warm before timing
                searcher.search(query)
                k.scry(query)
                await session.call_tool("scry", {"query": query})
            for _ in range(repeat):
                for query in QUERIES:
                    times["baseline"].append(timed(lambda q=query: searcher.search(q)))
                    times["handle"].append(timed(lambda q=query: k.scry(q)))
                    started = time.perf_counter()
                    result = await session.call_tool("scry", {"query": query})
                    times["mcp"].append((time.perf_counter() - started) * 1000)
                    assert not result.is_error, result.content
    return times


async def first_answer(repo: Path, db: Path, root: Path = ROOT) -> tuple[float, float, str]:
    """Milliseconds from spawn to `initialize` answered and to the first scry answered,
    and that answer's text."""
    started = time.perf_counter()
    async with stdio_client(server(repo, db, root)) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        initialized = (time.perf_counter() - started) * 1000
        result = await session.call_tool("scry", {"query": QUERIES[0]})
        elapsed = (time.perf_counter() - started) * 1000
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error and '"mode": "hybrid"' in text, text[:300]
    return initialized, elapsed, text


def fresh_starts(repo: Path, db: Path, n: int, against: Path | None) -> dict[str, list[float]]:
    """`n` rounds of: the Searcher baseline, this tree's server, the other tree's server."""
    trees = {"": ROOT} if against is None else {"": ROOT, f" ({against})": against.resolve()}
    starts: dict[str, list[float]] = {"baseline": [], "sdk import": []}
    texts: dict[str, set[str]] = {}
    for _ in range(n):
        starts["baseline"].append(cold_baseline(db))
        starts["sdk import"].append(cold_python(SDK_IMPORT))
        for label, root in trees.items():
            initialized, answered, text = asyncio.run(first_answer(repo, db, root))
            starts.setdefault(f"mcp initialize{label}", []).append(initialized)
            starts.setdefault(f"mcp start to answer{label}", []).append(answered)
            texts.setdefault(label, set()).add(text)
    answers = {text for seen in texts.values() for text in seen}
    print(f"first answers: {len(answers)} distinct text(s) over {len(trees)} tree(s)")
    assert len(answers) == 1, "the trees (or two starts) answered differently"
    return starts


def cold_baseline(db: Path) -> float:
    return cold_python(COLD_BASELINE, str(db), QUERIES[0])


def cold_python(code: str, *args: str) -> float:
    """Milliseconds a fresh `python -c code args` takes."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], env=ENV, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="rounds over the 8 queries")
    parser.add_argument("--starts", type=int, default=5, help="fresh servers started")
    parser.add_argument("--db", type=Path, default=None,
                        help="keep the generated database here and reuse it next time")
    parser.add_argument("--against", type=Path, default=None,
                        help="another kenning checkout whose server starts are interleaved")
    parser.add_argument("--starts-only", action="store_true",
                        help="only the fresh starts, not the warm per-query figures")
    model_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        prepare(db, args.docs, args.model)
        repo = Path(tmp) / "repo"
        bind_to_repository(db, repo)
        print(f"load before: {uptime()}")
        starts = fresh_starts(repo, db, args.starts, args.against)
        if not args.starts_only:
            times = asyncio.run(warm(repo, db, args.repeat))
            base = statistics.median(times["baseline"])
            print(summary("warm hybrid, Searcher (baseline)", times["baseline"]))
            print(summary("warm hybrid, kenning.open().scry", times["handle"],
                          f"{statistics.median(times['handle']) / base:.2f}x "
                          "(target p50 <= 40)"))
            print(summary("warm hybrid, MCP tools/call scry", times["mcp"],
                          f"{statistics.median(times['mcp']) / base:.2f}x (target p50 <= 50)"))
        cold = statistics.median(starts["baseline"])
        print(summary("cold: new process, Searcher", starts["baseline"]))
        for name, ms in starts.items():
            if name == "sdk import":
                print(summary("cold: python importing the MCP SDK", ms,
                              "(the floor of any server on the SDK)"))
            elif name != "baseline":
                target = (f"{statistics.median(ms) / cold:.2f}x (target <= 1000)"
                          if "answer" in name else "")
                print(summary(f"cold: {name}", ms, target))
        print(f"load after:  {uptime()}")


if __name__ == "__main__":
    main()
