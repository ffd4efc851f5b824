"""What-if for DESIGN: one code.call event per calling function instead of per pair.

    .venv/bin/python bench/bench_call_events.py [REPO] [--repeat 3]

Today the extractor emits one `code.call` per (caller, callee) with every line
of that call; on sqlalchemy that is 130k of 228k code events, and the
two-worker scrape only ties the bare tree-sitter loop. This swaps in, for the
benchmark only, a `_calls` that groups the same facts per caller
({"caller", "calls": [[callee, lines]...], "language"}) and measures both
formats in interleaved rounds against the bare loop. Nothing here changes
kenning; it is evidence for a format decision that belongs to DESIGN.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from kenning.events import canonical_bytes
from kenning.gitrepo import GitRepo
from kenning.scrapers.code import extract

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_code import _files, bare, kenning_scrape  # noqa: E402

_PER_PAIR = extract._calls


def _per_caller(c: Any, calls: list[Any], src: bytes, language: str) -> tuple[list[str],
                                                                              list[bytes]]:
    """_calls' facts grouped by caller (plain @call.name callees, as for Python)."""
    names: dict[bytes, str] = {}
    by_caller: dict[str, dict[str, list[int]]] = {}
    row, at = 1, 0
    for start, _end, _node, caps, caller in calls:
        named = caps.get("call.name")
        if not named:
            continue
        raw = src[named[0].start_byte:named[0].end_byte]
        callee = names.get(raw)
        if callee is None:
            callee = names[raw] = " ".join(raw.decode("utf-8", "replace").split())[:160]
        row += src.count(b"\n", at, start)
        at = start
        by_caller.setdefault(caller, {}).setdefault(callee, []).append(row)
    return ([f"calls:{caller}" for caller in by_caller],
            [canonical_bytes({"caller": caller, "calls": [[callee, lines] for callee, lines
                                                          in callees.items()],
                              "language": language})
             for caller, callees in by_caller.items()])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo", nargs="?", default="/tmp/sqlalchemy")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repo = GitRepo.discover(Path(args.repo))
    target = repo.head() or ""
    files = _files(repo, target, {"python"})
    bare_runs: list[float] = []
    runs: dict[str, list[tuple[float, int]]] = {"per pair (today)": [], "per caller": []}
    for _ in range(args.repeat):
        bare_runs.append(bare(files)[0])
        for name, calls in (("per pair (today)", _PER_PAIR), ("per caller", _per_caller)):
            extract._calls = calls  # type: ignore[assignment]
            with tempfile.TemporaryDirectory() as cache:
                seconds, events, _, _ = kenning_scrape(repo, target, 2, cache, {"python"})
            runs[name].append((seconds, events))
    extract._calls = _PER_PAIR
    best_bare = min(bare_runs)
    print(f"bare parse+query, 1 core   {best_bare:6.2f} s")
    for name, found in runs.items():
        seconds, events = min(found)
        print(f"{name:<18} 2 workers {seconds:6.2f} s  {events:>7} events  "
              f"bare / kenning = {best_bare / seconds:.2f}x")


if __name__ == "__main__":
    main()
