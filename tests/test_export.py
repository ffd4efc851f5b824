"""`kenning export`: the canonical log as JSON Lines (streamed) or Parquet (optional pyarrow)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest

from kenning.eventlog import database
from kenning.eventlog.digest import rows
from kenning.eventlog.events import Event, canonical_json
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import scrape
from tests.conftest import ROOT, Runner
from tests.test_time_travel import build_project


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("export")
    build_project(base / "project")
    scrape(GitRepo.discover(base / "project"), base / "k.db")
    return base / "project", base / "k.db"


def test_jsonl_is_the_canonical_log_in_seq_order(scraped: tuple[Path, Path],
                                                 kenning: Runner) -> None:
    project, db = scraped
    proc = kenning("export", "--db", str(db), cwd=project)
    lines = proc.stdout.splitlines()
    conn = database.connect(db, write=False)
    stored = list(rows(conn))
    assert len(lines) == len(stored) > 20
    types = set()
    for line, (seq, event_id, event) in zip(lines, stored, strict=True):
        record = json.loads(line)
        assert canonical_json(record) == line  # sorted keys, no whitespace
        assert (record["seq"], record["event_id"]) == (seq, event_id)
        again = Event(record["event_type"], record["timestamp"], record["source_id"],
                      record["source_file"], canonical_json(record["data"]))
        assert again == event  # the payload is the stored canonical text
        assert hashlib.sha256(again.canonical().encode()).hexdigest() == event_id
        types.add(record["event_type"])
    assert {"git.commit", "git.tag", "code.function", "session.decision"} <= types


def test_jsonl_to_a_file_equals_stdout(scraped: tuple[Path, Path], tmp_path: Path,
                                       kenning: Runner) -> None:
    project, db = scraped
    out = tmp_path / "events.jsonl"
    streamed = kenning("export", "--format", "jsonl", "--db", str(db), cwd=project).stdout
    proc = kenning("export", "--output", str(out), "--db", str(db), cwd=project)
    assert out.read_text(encoding="utf-8") == streamed
    assert f"exported {len(streamed.splitlines())} events" in proc.stderr
    assert not list(tmp_path.glob("*.tmp"))


def test_parquet_writes_the_log_or_names_the_extra_to_install(
    scraped: tuple[Path, Path], tmp_path: Path, kenning: Runner
) -> None:
    """pyarrow is optional: without it, one line naming the extra; with it, the file."""
    project, db = scraped
    out = tmp_path / "events.parquet"
    # the subprocess sees the same packages as this process (and so the same pyarrow)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    proc = kenning("export", "--format", "parquet", "--output", str(out), "--db", str(db),
                   cwd=project, env={"PYTHONPATH": path}, check=False)
    if importlib.util.find_spec("pyarrow") is None:
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [
            "kenning: --format parquet needs pyarrow, which is not installed: "
            "pip install 'kenning[parquet]'"]
        assert not out.exists()
    else:
        import pyarrow.parquet as pq

        assert proc.returncode == 0, proc.stderr
        table = pq.read_table(out)
        conn = database.connect(db, write=False)
        stored = [(seq, eid, e.data) for seq, eid, e in rows(conn)]
        assert table.column_names == ["seq", "event_id", "event_type", "timestamp",
                                      "source_id", "source_file", "data"]
        assert list(zip(table["seq"].to_pylist(), table["event_id"].to_pylist(),
                        table["data"].to_pylist(), strict=True)) == stored


def test_bad_export_requests_fail_with_one_line(scraped: tuple[Path, Path],
                                                kenning: Runner) -> None:
    project, db = scraped
    unknown = kenning("export", "--format", "csv", "--db", str(db), cwd=project, check=False)
    assert unknown.returncode == 2 and "unknown export format 'csv'" in unknown.stderr
    nowhere = kenning("export", "--format", "parquet", "--db", str(db), cwd=project,
                      check=False)
    assert nowhere.returncode == 2 and len(nowhere.stderr.strip().splitlines()) == 1
