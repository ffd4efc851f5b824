"""Code scraper throughput against a bare tree-sitter loop, on one repository.

    .venv/bin/python bench/bench_code.py [REPO] [--languages python,rust,...]

REPO defaults to /tmp/sqlalchemy (a clone of github:sqlalchemy/sqlalchemy).
In one run, over the same files at HEAD, it measures:
  (a) bare: tree-sitter parse + kenning's query (all matches) in a plain loop,
      one core, files already in memory;
  (b) kenning's code scrape (units + scrape, every event built) with one worker,
      cold parse cache, reading blobs from git;
  (c) the same with two workers;
  (d) the same again with a warm cache (what a `--full` rebuild costs);
and prints MB/s for each and the ratios. Best of --repeat interleaved rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.base import History, ScrapeContext, ScrapeOptions


def _files(repo: GitRepo, target: str, languages: set[str]) -> list[tuple[str, str, bytes]]:
    from kenning.scrapers.code.languages import extension_map, language_of

    extensions = extension_map()
    entries = [(e, language_of(e.path, extensions)) for e in repo.ls_tree(target)
               if e.kind == "blob" and e.mode != "120000"]
    wanted = [(e, lang) for e, lang in entries if lang in languages and (e.size or 0) <= 1_000_000]
    data = dict(repo.read_blobs(sorted({e.object_id for e, _ in wanted})))
    return [(e.path, lang, data[e.object_id]) for e, lang in wanted if lang]


def _cpu() -> float:
    t = os.times()  # this process and every child it waited for (workers, git)
    return t.user + t.system + t.children_user + t.children_system


def bare(files: list[tuple[str, str, bytes]]) -> tuple[float, float]:
    from kenning.scrapers.code.extract import parse_and_query

    started, cpu = time.perf_counter(), _cpu()
    for _path, language, data in files:
        parse_and_query(language, data)
    return time.perf_counter() - started, _cpu() - cpu


def kenning_scrape(repo: GitRepo, target: str, workers: int, cache_dir: str,
                   languages: set[str]) -> tuple[float, int, int, float]:
    from kenning.scrapers import code

    os.environ["XDG_CACHE_HOME"] = cache_dir
    options = ScrapeOptions(workers=workers)
    ctx = ScrapeContext(repo, target, None, options, History)
    started, cpu = time.perf_counter(), _cpu()
    scraper = code.CodeScraper()
    units = scraper.units(ctx)
    events = 0
    for result in scraper.scrape(ctx, sorted(units)):
        events += len(result.events)
    seconds, spent = time.perf_counter() - started, _cpu() - cpu
    failed = scraper.stats.statuses.get("failed", 0)
    if failed:  # a crash in extraction is only a warning per file: make it loud here
        raise SystemExit(f"{failed} files failed extraction: {ctx.warnings[:3]}")
    return seconds, events, scraper.stats.cache_hits, spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo", nargs="?", default="/tmp/sqlalchemy")
    parser.add_argument("--languages", default="python")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    languages = set(args.languages.split(","))
    repo = GitRepo.discover(Path(args.repo))
    target = repo.head() or ""
    files = _files(repo, target, languages)
    total = sum(len(d) for _, _, d in files)
    mb = total / 1e6
    print(f"corpus   {args.repo} @ {target[:12]}: {len(files)} files, {mb:.1f} MB "
          f"({', '.join(sorted(languages))})")
    print(f"machine  {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    # the scraper parses every supported file; count only the wanted languages' bytes
    from kenning.scrapers.code import languages as registry

    other = set(registry.registry()) - languages
    if other:
        registry.registry.cache_clear()
        keep = registry.registry()
        for name in other:
            keep.pop(name, None)

    # interleaved (bare, 1 worker, 2 workers) rounds, best of each: this machine's speed
    # drifts by several percent within a minute, which would bias one phase after another
    bare_runs: list[tuple[float, float]] = []
    runs: dict[int, list[tuple[float, int, int, float]]] = {1: [], 2: []}
    for _ in range(args.repeat):
        bare_runs.append(bare(files))
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as cache:
                runs[workers].append(kenning_scrape(repo, target, workers, cache, languages))
    bare_s, bare_cpu = min(bare_runs)
    results = {workers: min(found) for workers, found in runs.items()}
    with tempfile.TemporaryDirectory() as cache:
        kenning_scrape(repo, target, 2, cache, languages)
        warm = min(kenning_scrape(repo, target, 2, cache, languages)
                   for _ in range(args.repeat))
    print(f"load     {os.getloadavg()[0]:.1f} (1-minute load average: wall times are "
          "only comparable on an idle machine; CPU seconds are shown too)")
    print(f"(a) bare parse+query, 1 core     {bare_s:7.2f} s  {mb / bare_s:6.1f} MB/s"
          f"  cpu {bare_cpu:6.2f} s")
    for workers, (seconds, events, _, cpu) in results.items():
        print(f"({'b' if workers == 1 else 'c'}) kenning code scrape, {workers} worker"
              f"{'s' if workers > 1 else ' '}  {seconds:7.2f} s  {mb / seconds:6.1f} MB/s"
              f"  cpu {cpu:6.2f} s  ({events} events)")
    print(f"(d) kenning, warm parse cache      {warm[0]:7.2f} s  {mb / warm[0]:6.1f} MB/s"
          f"  ({warm[2]} cache hits)")
    one, two = results[1][0], results[2][0]
    print(f"ratios   kenning 1 worker / bare = {one / bare_s:.2f}x (target <= 2)   "
          f"bare / kenning 2 workers = {bare_s / two:.2f}x (target > 1)   "
          f"1 worker / 2 workers = {one / two:.2f}x")
    print(f"cpu      kenning 1 worker / bare = {results[1][3] / bare_cpu:.2f}x")


if __name__ == "__main__":
    main()
