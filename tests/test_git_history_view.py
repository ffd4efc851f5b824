"""I2 when git shows the same commits differently: a shallow clone deepened, replace
refs, grafts. The scrape after the change must equal a full scrape of the clone as
it is now, and `kenning verify` must pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.clones import clone, git
from kenning.api.verify import verify
from kenning.eventlog import database
from kenning.eventlog.digest import digest
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import scrape


def _digest(db: Path) -> str:
    return digest(database.connect(db, write=False)).sha256


def _commits(db: Path) -> dict[str, dict]:
    conn = database.connect(db, write=False)
    return {d["subject"]: d for d in (json.loads(row) for (row,) in conn.execute(
        "SELECT data FROM eventlog WHERE event_type = 'git.commit'"))}


def _assert_equals_a_full_scrape(repo_path: Path, incremental: Path, tmp_path: Path) -> None:
    repo = GitRepo.discover(repo_path)
    full = tmp_path / f"full-{len(list(tmp_path.glob('full-*.db')))}.db"
    scrape(repo, full)
    assert _commits(incremental) == _commits(full)
    assert _digest(incremental) == _digest(full)
    assert verify(repo, incremental).ok


@pytest.mark.parametrize("clone_flags, fetch_flags, commits_before, commits_after", [
    (("--depth", "2", "--no-tags"), ("--unshallow",), 2, 12),  # no tag changes either
    (("--depth", "2"), ("--unshallow",), 2, 12),
    (("--depth", "2", "--no-tags"), ("--deepen", "3"), 2, 8),
])
def test_a_deepened_shallow_clone_scrapes_like_a_full_scrape(
        history_repo: Path, tmp_path: Path, clone_flags: tuple[str, ...],
        fetch_flags: tuple[str, ...], commits_before: int, commits_after: int) -> None:
    shallow = clone(history_repo, tmp_path / "shallow", *clone_flags)
    db = tmp_path / "k.db"
    scrape(GitRepo.discover(shallow), db)
    assert len(_commits(db)) == commits_before
    git(shallow, "fetch", "-q", *fetch_flags)
    assert int(git(shallow, "rev-list", "--count", "HEAD")) == commits_after
    result = scrape(GitRepo.discover(shallow), db)
    assert not result.unchanged
    assert len(_commits(db)) == commits_after
    _assert_equals_a_full_scrape(shallow, db, tmp_path)


def test_the_shallow_boundary_commit_has_no_parents_until_deepened(
        history_repo: Path, tmp_path: Path) -> None:
    shallow = clone(history_repo, tmp_path / "shallow", "--depth", "1")
    db = tmp_path / "k.db"
    scrape(GitRepo.discover(shallow), db)
    (tip,) = _commits(db).values()
    assert tip["parents"] == [] and len(tip["files"]) == 7  # every file, as if added here
    git(shallow, "fetch", "-q", "--deepen", "1")
    scrape(GitRepo.discover(shallow), db)
    tip = _commits(db)[tip["subject"]]
    assert len(tip["parents"]) == 1 and [f["path"] for f in tip["files"]] == [
        "docs/r\\xe9sum\\xe9.txt"]


def test_replace_refs_and_grafts_change_what_is_scraped(history_repo: Path,
                                                       tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    repo = GitRepo.discover(history_repo)
    scrape(repo, db)
    # a commit with another message in place of "Add logo"
    logo = git(history_repo, "rev-parse", ":/Add logo")
    edited = git(history_repo, "cat-file", "commit", logo).replace("Add logo", "Add a logo")
    new = _hash_commit(history_repo, edited + "\n")
    git(history_repo, "replace", logo, new)
    scrape(repo, db)
    assert "Add a logo" in _commits(db) and "Add logo" not in _commits(db)
    _assert_equals_a_full_scrape(history_repo, db, tmp_path)

    # new parents for "Release chores": history before "Add logo" is cut off there
    chores = git(history_repo, "rev-parse", ":/Release chores")
    git(history_repo, "replace", "--graft", chores)
    scrape(repo, db)
    assert _commits(db)["Release chores"]["parents"] == []
    _assert_equals_a_full_scrape(history_repo, db, tmp_path)

    for ref in (logo, chores):
        git(history_repo, "replace", "-d", ref)
    scrape(repo, db)
    assert "Add logo" in _commits(db)
    _assert_equals_a_full_scrape(history_repo, db, tmp_path)

    # a graft file (deprecated, still honoured by git): "Old address commit" has no parents
    old = git(history_repo, "rev-parse", ":/Old address commit")
    (history_repo / ".git" / "info" / "grafts").write_text(f"{old}\n")
    scrape(repo, db)
    assert _commits(db)["Old address commit"]["parents"] == []
    _assert_equals_a_full_scrape(history_repo, db, tmp_path)


def _hash_commit(repo: Path, text: str) -> str:
    import os
    import subprocess

    from fixtures.builder import BASE_ENV
    out = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo,
                         input=text.encode(), capture_output=True, check=True,
                         env={**os.environ, **BASE_ENV})
    return out.stdout.decode().strip()
