"""Databases that are read-only, damaged, foreign or on a full disk: reading works
wherever SQLite allows it, everything else is one line, and nothing is changed by
accident."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import apsw
import pytest

from kenning.errors import KenningError
from kenning.eventlog import database
from kenning.materialize.engine import materialize
from kenning.repository.gitrepo import GitRepo
from tests.conftest import update
from tests.read_only import run_read_only
from tests.test_bad_input import _one_line_error
from tests.test_materialize import test_recipe
from tests.test_recipe import kenning_git

READS = (["status", "--json"], ["digest", "--all"], ["export"],
         ["scry", "parser", "--mode", "lexical", "--json"])


def _scraped(repo: Path, kenning) -> Path:
    kenning("scrape", "--no-embed", cwd=repo)
    return repo / ".kenning" / "kenning.db"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _content(db: Path) -> dict[str, Any]:
    """Every table's schema and rows, whatever order SQLite keeps them in."""
    conn = apsw.Connection(str(db))
    try:
        schema = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(),
                        key=repr)
        tables = [n for t, n, _ in schema if t == "table" and not n.startswith("sqlite_")]
        return {"schema": schema, **{t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(),
                                              key=repr) for t in tables}}
    finally:
        conn.close()


def test_a_read_only_database_is_read_and_refuses_writes(history_repo: Path, kenning) -> None:
    db = _scraped(history_repo, kenning)
    expected = {tuple(args): kenning(*args, cwd=history_repo).stdout for args in READS}
    before = _files(db.parent)
    for args in READS:
        proc = run_read_only(db.parent, *args, cwd=history_repo)
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stdout == expected[tuple(args)], args
    for args in (["scrape", "--no-embed"], ["materialize", "--rebuild"]):
        _one_line_error(run_read_only(db.parent, *args, cwd=history_repo), "is read-only")
    assert _files(db.parent) == before


def test_a_read_only_database_with_a_write_ahead_log_is_read_whole(
        history_repo: Path, tmp_path: Path, kenning) -> None:
    """A copy taken while a writer had changes in the -wal file: a reader must see them
    (opening the file alone, as immutable, would not)."""
    db = _scraped(history_repo, kenning)
    copy = tmp_path / "copy"
    copy.mkdir()
    writer = apsw.Connection(str(db))
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE meta SET value = '0' WHERE key = 'reproducible'")
    for suffix in ("", "-wal", "-shm"):
        shutil.copy(f"{db}{suffix}", copy / f"kenning.db{suffix}")
    writer.execute("UPDATE meta SET value = '1' WHERE key = 'reproducible'")
    writer.close()
    proc = run_read_only(copy, "digest", "--db", str(copy / "kenning.db"), cwd=history_repo)
    assert proc.returncode == 0, proc.stderr
    assert "not reproducible" in proc.stdout  # the change that only the -wal file holds

    (copy / "kenning.db-shm").unlink()  # a log SQLite cannot use without its index
    _one_line_error(run_read_only(copy, "status", "--db", str(copy / "kenning.db"),
                                  cwd=history_repo), "unfinished write-ahead log")


def test_a_foreign_sqlite_file_is_left_exactly_as_it_was(history_repo: Path, tmp_path: Path,
                                                         kenning) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    other = folder / "other.db"
    conn = apsw.Connection(str(other))
    conn.execute("CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('mine')")
    conn.close()
    before = _files(folder)
    for args in (["status"], ["scry", "x", "--mode", "lexical"], ["verify"], ["materialize"],
                 ["scrape", "--no-embed"]):
        proc = kenning(*args, "--db", str(other), cwd=history_repo, check=False)
        _one_line_error(proc, "is an SQLite file but not a kenning database")
        assert _files(folder) == before, args  # not one byte, and no -wal or -shm left


@pytest.mark.parametrize("key", ["schema_version", "format_version"])
def test_a_version_that_is_not_a_number(history_repo: Path, kenning, key: str) -> None:
    db = _scraped(history_repo, kenning)
    conn = apsw.Connection(str(db))
    conn.execute("UPDATE meta SET value = 'one' WHERE key = ?", (key,))
    conn.close()
    before = db.read_bytes()
    for args in (["status"], ["scrape", "--no-embed"]):  # a reader and a writer
        _one_line_error(kenning(*args, cwd=history_repo, check=False),
                        f"is damaged (its {key} is 'one', not a number)")
    assert db.read_bytes() == before


def test_a_damaged_page_says_how_to_rebuild_and_the_advice_works(history_repo: Path,
                                                                  kenning) -> None:
    db = _scraped(history_repo, kenning)
    conn = apsw.Connection(str(db))
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    roots = [r[0] for r in conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'eventlog' AND rootpage > 0")]
    conn.close()
    noise = random.Random(7)
    with db.open("r+b") as f:  # the first page of the eventlog and its indexes: noise
        for root in roots:
            f.seek((root - 1) * page_size)
            f.write(bytes([0xFF]) + noise.randbytes(page_size - 1))
    kenning_git(history_repo, "commit", "-q", "--allow-empty", "-m", "One more")  # work to do
    for args in (["status"], ["digest"], ["materialize", "--rebuild"], ["scrape", "--no-embed"]):
        _one_line_error(kenning(*args, cwd=history_repo, check=False),
                        "is damaged (database disk image is malformed); everything in it is "
                        "rebuilt from the repository: delete it and run `kenning scrape`")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    kenning("scrape", "--no-embed", cwd=history_repo)
    assert kenning("verify", cwd=history_repo).returncode == 0


def test_a_full_disk_while_materializing_says_so_and_changes_nothing(
        history_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "k.db"
    recipe = test_recipe()
    update(GitRepo.discover(history_repo), db, recipe=recipe, run_materializers=False)
    before = _content(db)
    opened = database.connect

    def nearly_full(path: Path, **kwargs: Any) -> apsw.Connection:
        """The disk fills up two pages from now (SQLite's own size limit, which fails
        with the same error as a full disk)."""
        conn = opened(path, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return conn

    monkeypatch.setattr(database, "connect", nearly_full)
    with pytest.raises(KenningError) as info:
        materialize(db, recipe)
    assert info.value.message.startswith("disk full: cannot write")
    assert "\n" not in info.value.message
    monkeypatch.undo()
    assert _content(db) == before


def test_the_command_line_says_disk_full_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The same through the commands' error boundary, for an error met where no path
    is known (outside a transaction)."""
    from kenning.cli import main

    def full(**options: object) -> None:
        raise apsw.FullError("database or disk is full")

    monkeypatch.setattr(main, "app", full)
    with pytest.raises(SystemExit) as exit_info:
        main.main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ("kenning: disk full: cannot write the database; nothing "
                                       "was changed (free some space and run the command "
                                       "again)\n")


def _vector_bytes_per_row(db: Path) -> float:
    """What 200 stored vectors add to the file, per vector."""
    from kenning.embed.model import DIMENSIONS
    from kenning.materialize.embeddings import EmbeddingsMaterializer

    conn = database.connect(db, write=True, create=True)
    with database.write_transaction(conn, db):
        database.ensure_schema(conn)
        EmbeddingsMaterializer().create(conn, {})
    before = db.stat().st_size + Path(f"{db}-wal").stat().st_size
    vector = bytes(4 * DIMENSIONS)
    with database.write_transaction(conn, db):
        conn.executemany("INSERT INTO embeddings VALUES (?, 'm', 'h', ?)",
                         [(f"e{i:05d}", vector) for i in range(200)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return (db.stat().st_size - before) / 200


def test_a_new_database_keeps_each_vector_on_its_page(tmp_path: Path) -> None:
    # 1,536 bytes of vector overflow SQLite's default 4 KiB page into one more page per
    # vector: a database with vectors was a third larger than it needs to be
    assert _vector_bytes_per_row(tmp_path / "new.db") < 2_000
