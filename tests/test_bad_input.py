"""Bad input: one line on stderr, a non-zero exit, no traceback, the database untouched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import apsw
import pytest

from fixtures.builder import RepoBuilder


def _one_line_error(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kenning: ") and expected in lines[0], lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_not_a_git_repository(tmp_path: Path, kenning) -> None:
    proc = kenning("scrape", cwd=tmp_path, check=False)
    _one_line_error(proc, "is not inside a git repository")
    assert not (tmp_path / ".kenning").exists()


def test_an_empty_repository_gives_an_empty_log_and_exit_0(tmp_path: Path, kenning) -> None:
    RepoBuilder(tmp_path / "empty")
    proc = kenning("scrape", "--no-embed", cwd=tmp_path / "empty")
    assert "no commits yet" in proc.stderr
    digest = kenning("digest", "--json", cwd=tmp_path / "empty")
    assert '"events": 0' in digest.stdout


def test_a_shallow_clone_works_with_a_warning(history_repo: Path, tmp_path: Path,
                                              kenning) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "3", f"file://{history_repo}",
                    str(shallow)], check=True)
    proc = kenning("scrape", "--no-embed", cwd=shallow)
    assert "shallow clone" in proc.stderr and "incomplete" in proc.stderr
    assert kenning("verify", cwd=shallow).returncode == 0


@pytest.mark.parametrize("until, expected", [
    ("no-such-branch", "cannot read --until 'no-such-branch': not a revision of this "
                       "repository, and not a date"),
    ("v9.9.9", "not a revision of this repository, and not a date"),  # git: 2009-09-09
    ("30/06/2024", "cannot read --until '30/06/2024'"),
    ("2024-13-45", "cannot read the date '2024-13-45' for --until: there is no month 13"),
    ("2024-02-30", "February 2024 has days 1 to 29"),
    ("2024-06-30T12:00:00", "has no offset"),
    ("2024-06-30T25:61:00Z", "cannot read the time"),
    ("1999-01-01", "no commit on the first-parent history at or before"),
    ("", "--until needs a date"),
    ("   ", "--until needs a date"),
])
def test_bad_until_values(history_repo: Path, kenning, until: str, expected: str) -> None:
    _one_line_error(kenning("scrape", "--until", until, cwd=history_repo, check=False), expected)
    assert not (history_repo / ".kenning" / "kenning.db").exists()


def _scraped(repo: Path, kenning) -> Path:
    kenning("scrape", "git", "--no-materialize", cwd=repo)
    return repo / ".kenning" / "kenning.db"


def test_a_database_from_a_newer_kenning(history_repo: Path, kenning) -> None:
    db = _scraped(history_repo, kenning)
    conn = apsw.Connection(str(db))
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    before = db.read_bytes()
    for command in ("scrape", "digest", "status"):
        _one_line_error(kenning(command, cwd=history_repo, check=False), "newer kenning")
    assert db.read_bytes() == before


def test_a_corrupt_database_file(history_repo: Path, kenning) -> None:
    db = history_repo / ".kenning" / "kenning.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not sqlite" * 500)
    for command in ("scrape", "digest", "verify", "status"):
        _one_line_error(kenning(command, cwd=history_repo, check=False), "not a usable")
    assert db.read_bytes() == b"this is not sqlite" * 500


def test_a_locked_database(history_repo: Path, kenning) -> None:
    db = _scraped(history_repo, kenning)
    holder = apsw.Connection(str(db))
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        proc = kenning("scrape", "--full", "--no-embed", cwd=history_repo, check=False,
                       env={"KENNING_LOCK_TIMEOUT": "0.2"})
        _one_line_error(proc, "is locked by another kenning process")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert kenning("verify", cwd=history_repo).returncode == 0


def test_digest_of_a_missing_database(tmp_path: Path, kenning) -> None:
    _one_line_error(kenning("digest", "--db", str(tmp_path / "none.db"), cwd=tmp_path,
                            check=False), "no kenning database")


def test_a_database_path_that_cannot_be_opened(history_repo: Path, tmp_path: Path,
                                               kenning) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    _one_line_error(kenning("scrape", "--db", str(blocker / "k.db"), cwd=history_repo,
                            check=False), "cannot create")
    _one_line_error(kenning("scrape", "--db", "/proc/k.db", cwd=history_repo, check=False),
                    "cannot open /proc/k.db")


def test_a_corrupt_git_object(history_repo: Path, kenning) -> None:
    tree = subprocess.run(["git", "rev-parse", "HEAD~3^{tree}"], cwd=history_repo, check=True,
                          capture_output=True, text=True).stdout.strip()
    loose = history_repo / ".git" / "objects" / tree[:2] / tree[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"garbage")
    _one_line_error(kenning("scrape", "--no-embed", cwd=history_repo, check=False),
                    "git cannot read the repository")
    assert not (history_repo / ".kenning" / "kenning.db").exists()  # nothing half-made


def test_a_repository_folder_that_does_not_exist(tmp_path: Path, kenning) -> None:
    _one_line_error(kenning("scrape", "--repo", str(tmp_path / "no" / "such"), cwd=tmp_path,
                            check=False), "does not exist")


def test_digest_files_that_are_directories(history_repo: Path, tmp_path: Path,
                                           kenning) -> None:
    _scraped(history_repo, kenning)
    _one_line_error(kenning("digest", "--write", str(tmp_path), cwd=history_repo,
                            check=False), f"{tmp_path} is a directory; give a file name")
    _one_line_error(kenning("digest", "--check", str(tmp_path), cwd=history_repo,
                            check=False), "cannot read the digest file")
    assert [p.name for p in tmp_path.iterdir()] == ["repo"]  # no half-written file left
