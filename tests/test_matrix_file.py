"""The vector matrix file beside the database (scry/matrix.py): a query process maps it
instead of reading every vector out of SQLite, and it is never used when it does not
hold exactly what the database holds now: after a new commit, after a rebuild of the
same log (other doc_ids), when it belongs to another database, or when it is damaged."""

from __future__ import annotations

import mmap
import shutil
from pathlib import Path

import numpy as np
import pytest

import kenning
from fixtures.builder import RepoBuilder
from kenning.eventlog import database
from kenning.scry.filters import KINDS
from kenning.scry.matrix import FILE_SUFFIX, VectorMatrix, load_matrix
from tests.conftest import copied
from tests.test_mcp import build_repo

QUERY = "why do we split tokens on tabs"


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture repository scraped once with vectors (the real model, a few texts)."""
    path = tmp_path_factory.mktemp("matrix") / "repo"
    build_repo(path)
    with kenning.open(path) as k:
        k.scrape()
    return path


@pytest.fixture
def repo(scraped: Path, tmp_path: Path) -> Path:
    return copied(scraped, tmp_path)


def db_of(repo: Path) -> Path:
    with kenning.open(repo) as k:
        return k.db_path


def load(db: Path) -> VectorMatrix:
    conn = database.connect(db, write=False)
    try:
        return load_matrix(conn)
    finally:
        conn.close()


def mapped(m: VectorMatrix) -> bool:
    base = m.vectors
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


def assert_holds_the_database(m: VectorMatrix, db: Path) -> None:
    conn = database.connect(db, write=False)
    rows = conn.execute("SELECT d.doc_id, e.vector, d.kind FROM embeddings e JOIN documents d "
                        "USING (event_id) ORDER BY e.event_id").fetchall()
    conn.close()
    assert m.doc_ids.tolist() == [r[0] for r in rows]
    assert m.kinds.tolist() == [KINDS.index(r[2]) for r in rows]
    assert [v.tobytes() for v in m.vectors] == [r[1] for r in rows]


def test_a_scrape_leaves_the_file_that_the_next_query_maps(repo: Path) -> None:
    db = db_of(repo)
    assert Path(str(db) + FILE_SUFFIX).is_file()
    m = load(db)
    assert mapped(m)
    assert_holds_the_database(m, db)
    with kenning.open(repo) as k:
        mapped_answer = k.scry(QUERY)
    Path(str(db) + FILE_SUFFIX).unlink()
    with kenning.open(repo) as k:
        read_answer = k.scry(QUERY)  # from SQLite, writing the file again
    assert mapped_answer.results == read_answer.results  # (the first made re-ranking vectors)
    assert mapped(load(db))


def test_a_file_left_from_before_a_new_commit_is_not_used(repo: Path) -> None:
    db = db_of(repo)
    old = Path(str(db) + FILE_SUFFIX).read_bytes()
    r = RepoBuilder(repo)  # git init again: the same repository
    r.commit("Retry the upload with exponential backoff", "2024-03-01T12:00:00+00:00",
             {"src/upload.py": "def upload(blob):\n    return send(blob)\n"})
    with kenning.open(repo) as k:
        k.scrape()
    Path(str(db) + FILE_SUFFIX).write_bytes(old)  # as if the refresh had never happened
    m = load(db)
    assert not mapped(m)
    assert_holds_the_database(m, db)
    assert Path(str(db) + FILE_SUFFIX).read_bytes() != old  # written anew
    assert mapped(load(db))


def test_a_file_from_before_a_rebuild_of_the_same_log_is_not_used(repo: Path) -> None:
    db = db_of(repo)
    old = Path(str(db) + FILE_SUFFIX).read_bytes()
    with kenning.open(repo) as k:
        k.materialize(["fts"], rebuild=True)
    Path(str(db) + FILE_SUFFIX).write_bytes(old)
    m = load(db)
    assert not mapped(m)
    assert_holds_the_database(m, db)


def test_another_databases_file_is_not_used(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    r = build_repo(other)
    r.commit("A second history", "2024-03-02T12:00:00+00:00",
             {"src/other.py": "def other():\n    return 1\n"})
    with kenning.open(other) as k:
        k.scrape()
    db = db_of(repo)
    shutil.copyfile(str(db_of(other)) + FILE_SUFFIX, str(db) + FILE_SUFFIX)
    m = load(db)
    assert not mapped(m)
    assert_holds_the_database(m, db)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_file_is_read_around(repo: Path, damage: str) -> None:
    db = db_of(repo)
    path = Path(str(db) + FILE_SUFFIX)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[:-100], "garbage": b"\x00\xff" * 3000,
                      "empty": b""}[damage])
    m = load(db)
    assert not mapped(m)
    assert_holds_the_database(m, db)
    assert path.read_bytes() == data  # the same tokens, the same rows: the same file


def test_a_scrape_without_vectors_removes_the_file(repo: Path) -> None:
    db = db_of(repo)
    (repo / ".kenning" / "recipe.toml").write_text(
        "[materialize.embeddings]\nenabled = false\n")
    with kenning.open(repo) as k:
        k.scrape()
    assert not Path(str(db) + FILE_SUFFIX).exists()


def test_a_part_file_left_by_a_killed_writer_goes_with_the_next_write(repo: Path) -> None:
    db = db_of(repo)
    path = Path(str(db) + FILE_SUFFIX)
    leftover = path.parent / (path.name + "k3x9q1.part")
    leftover.write_bytes(b"\x00" * 4096)  # what a SIGKILL in the middle of a write leaves
    path.unlink()
    load(db)
    assert path.is_file()
    assert not leftover.exists()
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".part")] == []


def test_a_database_from_before_tokens_gets_its_file_after_a_no_op_scrape(repo: Path) -> None:
    db = db_of(repo)
    conn = database.connect(db, write=True)
    conn.execute("DROP TABLE materializer_generation")  # as an older kenning left it
    conn.close()
    Path(str(db) + FILE_SUFFIX).unlink()
    assert not mapped(load(db))
    assert not Path(str(db) + FILE_SUFFIX).exists()  # no tokens: nothing to name a file by
    with kenning.open(repo) as k:
        report = k.scrape()
    assert report.scrape.added == 0
    assert not mapped(load(db))  # written by this first query...
    m = load(db)
    assert mapped(m)  # ...and mapped by the next
    assert_holds_the_database(m, db)


def test_the_file_is_readable_by_whoever_may_read_the_database(repo: Path) -> None:
    db = db_of(repo)
    path = Path(str(db) + FILE_SUFFIX)
    db.chmod(0o644)
    path.unlink()
    load(db)
    assert path.stat().st_mode & 0o777 == 0o644
