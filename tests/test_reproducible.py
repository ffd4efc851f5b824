"""I1 across machines, for the whole database: the pipeline (scrape + every materializer,
embeddings included, on a small fixture) run twice in processes that differ in time zone,
locale, hash seed, working directory, code worker count and vector cache gives the same
`kenning digest --all`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fixtures.builder import RepoBuilder
from tests.conftest import ROOT, Runner
from tests.test_time_travel import build_project

# the pipeline with a given code worker count, as a separate process would run it
_PIPELINE = """
import sys
from pathlib import Path
import kenning
with kenning.open(sys.argv[1], sys.argv[2]) as k:
    result = k.scrape(workers=int(sys.argv[3]))
assert all(r.action == "rebuilt" for r in result.materialized), result.materialized
"""


def _many_modules(project: Path) -> None:
    """Enough code files for several parse batches (64 files each) across workers."""
    r = RepoBuilder(project)  # re-opens the repository (git init is idempotent)
    files = {f"pkg/mod{i:03d}.py": f'def handler_{i}(x):\n    """Handle case {i}."""\n'
             f"    return helper_{i % 7}(x) + {i}\n" for i in range(70)}
    r.commit("Add generated handlers", "2024-02-06T10:00:00+00:00", files)


def _run(project: Path, db: Path, workdir: Path, workers: int, env: dict[str, str],
         kenning: Runner) -> dict[str, object]:
    full = {"PYTHONPATH": str(ROOT), **env}
    subprocess.run([sys.executable, "-c", _PIPELINE, str(project), str(db), str(workers)],
                   cwd=workdir, env={**os.environ, **full}, check=True)
    proc = kenning("digest", "--all", "--json", "--db", str(db), "--repo", str(project),
                   cwd=workdir, env=env)
    value: dict[str, object] = json.loads(proc.stdout)
    return value


def test_the_whole_database_is_the_same_on_two_different_machines(
    tmp_path: Path, kenning: Runner
) -> None:
    project = tmp_path / "project"
    build_project(project)
    _many_modules(project)
    (tmp_path / "elsewhere").mkdir()
    first = _run(project, tmp_path / "a.db", project, 1, {
        "TZ": "UTC", "LANG": "C", "LC_ALL": "C", "PYTHONHASHSEED": "0",
        "XDG_CACHE_HOME": str(tmp_path / "cache-a")}, kenning)
    second = _run(project, tmp_path / "b.db", tmp_path / "elsewhere", 3, {
        "TZ": "Pacific/Chatham", "LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8",
        "PYTHONHASHSEED": "4242", "XDG_CACHE_HOME": str(tmp_path / "cache-b")}, kenning)
    assert first == second
    tables = first["tables"]
    assert isinstance(tables, dict)
    assert tables["functions"]["rows"] >= 70
    assert tables["embeddings"]["rows"] == tables["documents"]["rows"] > 70
    for cache in ("cache-a", "cache-b"):  # each machine embedded on its own
        assert (tmp_path / cache / "kenning" / "vectors.sqlite").is_file()
