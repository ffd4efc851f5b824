"""`kenning digest --all`, `--write`/`--check` and `kenning verify --all`, on real databases."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import apsw
import pytest

from kenning.eventlog import database
from kenning.materialize.digest import materialized_tables, table_digests
from kenning.materialize.registry import MATERIALIZERS, load
from tests.conftest import ROOT, Runner
from tests.test_time_travel import build_project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The project fixture, scraped and materialized once (embeddings included)."""
    from kenning.repository.gitrepo import GitRepo
    from tests.conftest import update

    base = tmp_path_factory.mktemp("digest")
    build_project(base / "project")
    update(GitRepo.discover(base / "project"), base / "k.db")
    return base / "project", base / "k.db"


@pytest.fixture
def db(built: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the built database, to alter."""
    copy = tmp_path / "k.db"
    shutil.copy(built[1], copy)
    return copy


def _tables(db: Path) -> dict[str, tuple[int, str]]:
    conn = apsw.Connection(str(db))
    try:
        return {t.table: (t.rows, t.sha256) for t in table_digests(conn)}
    finally:
        conn.close()


def _alter(db: Path, sql: str) -> None:
    conn = apsw.Connection(str(db))
    try:
        conn.execute(sql)
        assert conn.changes() > 0, sql
    finally:
        conn.close()


def test_every_plain_table_of_every_materializer_has_a_digest(built: tuple[Path, Path]) -> None:
    conn = apsw.Connection(str(built[1]))
    kinds = dict(conn.execute("SELECT name, type FROM sqlite_master").fetchall())
    owned = {t for name in MATERIALIZERS for t in load(name).tables()}
    digested = {t for _, t in materialized_tables(conn)}
    plain = {t for t in owned if kinds.get(t) == "table"}
    virtual = {t for t in plain if str(conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0]).startswith(
        "CREATE VIRTUAL")}
    assert virtual == {"documents_fts"}
    assert digested == plain - virtual
    assert not any(t.startswith("documents_fts") for t in digested)  # no FTS5 shadow tables
    assert {"eventlog", "meta", "materializer_state", "scrape_runs"}.isdisjoint(digested)
    rows = {t.table: t.rows for t in table_digests(conn)}
    for table in ("commits", "functions", "sessions", "documents", "co_change_files",
                  "expertise_authorship", "signals", "embeddings"):
        assert rows[table] > 0, table


def test_local_handles_vector_bytes_and_float_noise_do_not_change_a_digest(db: Path) -> None:
    before = _tables(db)
    _alter(db, "UPDATE documents SET doc_id = doc_id + 1000")  # a local handle
    _alter(db, "UPDATE signals SET score = score * (1 + 1e-13)")  # below the fixed precision
    conn = apsw.Connection(str(db))
    event_id, blob = conn.execute("SELECT event_id, vector FROM embeddings LIMIT 1").fetchone()
    values = list(struct.unpack(f"<{len(blob) // 4}f", blob))
    values[0], values[1] = values[1], values[0]  # other bytes, still a unit vector
    conn.execute("UPDATE embeddings SET vector = ? WHERE event_id = ?",
                 (struct.pack(f"<{len(values)}f", *values), event_id))
    conn.close()
    assert _tables(db) == before

    _alter(db, "UPDATE signals SET score = score * 1.001")  # a real change
    _alter(db, f"UPDATE embeddings SET vector = zeroblob(1536) WHERE event_id = '{event_id}'")
    after = _tables(db)
    changed = {t for t in before if before[t] != after[t]}
    assert changed == {"signals", "embeddings"}


def test_digest_all_prints_every_table_and_check_accepts_its_own_file(
    built: tuple[Path, Path], tmp_path: Path, kenning: Runner
) -> None:
    project, db = built
    listing = kenning("digest", "--all", "--json", "--db", str(db), cwd=project)
    value = json.loads(listing.stdout)
    assert set(value["tables"]) == set(_tables(db))
    assert value["tables"]["embeddings"]["materializer"] == "embeddings"
    file = tmp_path / "digest.json"
    kenning("digest", "--all", "--write", str(file), "--db", str(db), cwd=project)
    recorded = json.loads(file.read_text())
    assert recorded["eventlog"]["sha256"] == value["sha256"]
    assert len(recorded["event_hashes"]) == value["events"]
    ok = kenning("digest", "--check", str(file), "--db", str(db), cwd=project)
    assert ok.stdout.startswith("ok:")


def test_check_fails_on_a_log_altered_by_hand_and_names_the_event(
    built: tuple[Path, Path], db: Path, tmp_path: Path, kenning: Runner
) -> None:
    project = built[0]
    file = tmp_path / "digest.json"
    kenning("digest", "--write", str(file), "--db", str(db), cwd=project)
    conn = apsw.Connection(str(db))
    (seq,) = conn.execute("SELECT seq FROM eventlog WHERE data ->> 'subject' = 'Add logo'"
                          ).fetchone()
    conn.close()
    # the kind of edit a person makes: the payload changes, the stored event_id does not
    _alter(db, "UPDATE eventlog SET data = replace(data, 'Add logo', 'Add a logo') "
               "WHERE data ->> 'subject' = 'Add logo'")
    proc = kenning("digest", "--check", str(file), "--db", str(db), cwd=project, check=False)
    assert proc.returncode == 1
    assert f"first difference at seq {seq}:" in proc.stdout
    assert "Add a logo" in proc.stdout
    assert "(no longer in the log)" in proc.stdout
    assert "* git.commit" in proc.stdout and "contents differ" in proc.stdout

    _alter(db, "DELETE FROM eventlog WHERE event_type = 'git.tag'")
    proc = kenning("digest", "--check", str(file), "--db", str(db), cwd=project, check=False)
    assert proc.returncode == 1
    line = next(x for x in proc.stdout.splitlines() if "git.tag" in x)
    assert line.split()[1:] == ["git.tag", "2", "0"]  # recorded 2, now 0


def test_check_rejects_a_file_that_is_not_a_digest(
    built: tuple[Path, Path], tmp_path: Path, kenning: Runner
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    proc = kenning("digest", "--check", str(bad), "--db", str(built[1]), cwd=built[0],
                   check=False)
    assert proc.returncode == 2  # an error, not a difference (1)
    assert proc.stderr.startswith("kenning: ") and "not a kenning digest file" in proc.stderr


def test_verify_all_passes_after_incremental_scrapes_and_names_an_altered_row(
    tmp_path: Path, kenning: Runner
) -> None:
    from kenning.repository.gitrepo import GitRepo
    from tests.conftest import update

    project = tmp_path / "project"
    build_project(project)
    db = str(tmp_path / "k.db")
    git = ["git", "-C", str(project)]
    subprocess.run([*git, "checkout", "-q", "HEAD~3"], check=True)
    update(GitRepo.discover(project), Path(db))  # in-process: the model loads once
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    caught_up = update(GitRepo.discover(project), Path(db))
    assert {r.action for r in caught_up.materialized} <= {"caught up", "rebuilt"}
    assert any(r.action == "caught up" for r in caught_up.materialized)
    ok = kenning("verify", "--all", "--db", db, cwd=project)
    assert "ok: all" in ok.stdout and "materialized tables are identical" in ok.stdout

    _alter(Path(db), "UPDATE co_change_files SET revisions = revisions + 7 "
                     "WHERE path = 'src/parser.py'")
    bad = kenning("verify", "--all", "--json", "--db", db, cwd=project, check=False)
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["stored"] == report["rebuilt"]  # the eventlog itself is fine
    wrong = {t for t, v in report["tables"].items() if not v["ok"]}
    assert wrong == {"co_change_files"}
    first = report["tables"]["co_change_files"]["first_difference"]
    assert first["key"] == {"path": "src/parser.py"}
    assert json.loads(first["stored"])[1] == json.loads(first["rebuilt"])[1] + 7
    text = kenning("verify", "--all", "--db", db, cwd=project, check=False)
    assert "DIFFERENT table co_change_files" in text.stdout and "src/parser.py" in text.stdout


def test_verify_all_on_this_repository_own_history(tmp_path: Path, kenning: Runner) -> None:
    """The CI check of docs/ci.md, on kenning's own committed history (embeddings off:
    the rest of the suite covers them, and thousands of code symbols would be slow)."""
    clone = tmp_path / "kenning"
    subprocess.run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)], check=True)
    (clone / ".kenning").mkdir(exist_ok=True)
    (clone / ".kenning" / "recipe.toml").write_text("[materialize.embeddings]\nenabled = false\n")
    kenning("scrape", cwd=clone)
    kenning("verify", "--all", cwd=clone)
    kenning("digest", "--all", "--write", "digest.json", cwd=clone)
    kenning("digest", "--check", "digest.json", cwd=clone)
    conn = database.connect(clone / ".kenning" / "kenning.db", write=False)
    assert conn.execute("SELECT count(*) FROM eventlog WHERE event_type = 'code.function'"
                        ).fetchone()[0] > 100


def test_check_names_a_different_input_first_in_one_line(
    built: tuple[Path, Path], tmp_path: Path, kenning: Runner
) -> None:
    """A digest file from another commit's database (or other scrape options) says so
    before it lists a single differing count or row; the exit status is still 1."""
    import kenning as api

    project, db = built
    older = tmp_path / "older.db"
    with api.open(project, older) as k:
        k.scrape(until="HEAD~1", materialize=False)
        target = k.status().target
        file = tmp_path / "older.json"
        k.write_digest(file)
    recorded = json.loads(file.read_text())
    assert recorded["input"]["target"] == target and recorded["input"]["cutoff"] is not None
    assert recorded["kenning_version"] == api.__version__
    assert recorded["input"]["scrape_options"] and len(recorded["input"]["recipe"]) == 16
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True,
                          text=True, check=True).stdout.strip()

    proc = kenning("digest", "--check", str(file), "--db", str(db), cwd=project, check=False)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0] == f"DIFFERENT from {file}:"
    assert lines[1].startswith(f"different input (recorded vs now): commit {target[:12]} vs "
                               f"{head[:12]}; --until ")
    assert lines[2].startswith("eventlog: recorded")  # then the counts and rows, as before

    other = tmp_path / "notes.db"
    with api.open(project, other) as k:
        k.scrape(session_paths=["notes"], materialize=False)
        k.write_digest(tmp_path / "notes.json")
    proc = kenning("digest", "--check", str(tmp_path / "notes.json"), "--db", str(db),
                   cwd=project, check=False)
    assert proc.stdout.splitlines()[1] == ("different input (recorded vs now): "
                                           "scrape options (session_paths)")


def test_check_still_reads_a_digest_file_that_records_no_input(
    built: tuple[Path, Path], db: Path, tmp_path: Path, kenning: Runner
) -> None:
    project = built[0]
    file = tmp_path / "old.json"
    kenning("digest", "--write", str(file), "--db", str(db), cwd=project)
    value = json.loads(file.read_text())
    del value["input"], value["kenning_version"]  # as kenning wrote it before
    file.write_text(json.dumps(value))
    assert kenning("digest", "--check", str(file), "--db", str(db), cwd=project).stdout \
        .startswith("ok:")
    _alter(db, "DELETE FROM eventlog WHERE event_type = 'git.tag'")
    proc = kenning("digest", "--check", str(file), "--db", str(db), cwd=project, check=False)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[1].startswith("eventlog: recorded")  # no input line
