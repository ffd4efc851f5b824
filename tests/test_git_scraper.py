"""The git scraper's events on the standard history fixture (DESIGN.md §3 git)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kenning.eventlog import database
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import scrape


def _events(db: Path, event_type: str) -> dict[str, tuple[str, dict[str, Any]]]:
    import json

    conn = database.connect(db, write=False)
    rows = conn.execute("SELECT source_id, timestamp, data FROM eventlog WHERE event_type = ?",
                        (event_type,)).fetchall()
    return {sid: (ts, json.loads(data)) for sid, ts, data in rows}


@pytest.fixture
def commits(history_repo: Path, tmp_path: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    db = tmp_path / "k.db"
    scrape(GitRepo.discover(history_repo), db, scrapers=["git"])
    by_sha = _events(db, "git.commit")
    return {data["subject"]: (ts, data) for ts, data in by_sha.values()}


def test_every_reachable_commit_is_one_event(commits: dict) -> None:
    assert len(commits) == 12


def test_timestamp_is_committer_time_in_utc_and_author_keeps_its_offset(commits: dict) -> None:
    ts, data = commits["feat(app): add greeting"]
    assert ts == "2024-01-02T07:30:00Z"
    assert data["author"] == {"name": "Alice Example", "email": "alice@example.com",
                              "date": "2024-01-02T09:30:00+02:00"}


def test_message_parts_refs_trailers_and_conventional_commit(commits: dict) -> None:
    _, data = commits["feat(app): add greeting"]
    assert data["body"] == ("Closes #12\n\nSigned-off-by: Alice Example <alice@example.com>")
    assert data["conventional"] == {"type": "feat", "scope": "app", "breaking": False,
                                    "description": "add greeting"}
    assert data["refs"] == ["#12"]
    assert data["trailers"] == [
        {"key": "Signed-off-by", "value": "Alice Example <alice@example.com>"},
    ]
    assert commits["Initial commit"][1]["conventional"] is None


def test_files_with_line_counts(commits: dict) -> None:
    _, data = commits["Initial commit"]
    assert data["files"] == [
        {"path": "README.md", "change_type": "A", "lines_added": 1, "lines_removed": 0,
         "binary": False},
        {"path": "src/app.py", "change_type": "A", "lines_added": 2, "lines_removed": 0,
         "binary": False},
    ]


def test_renames_carry_the_old_path(commits: dict) -> None:
    _, data = commits["Move app.py to core.py"]
    assert data["files"] == [{"path": "src/core.py", "old_path": "src/app.py",
                              "change_type": "R", "lines_added": 0, "lines_removed": 0,
                              "binary": False}]


def test_binary_files_are_flagged(commits: dict) -> None:
    (entry,) = commits["Add logo"][1]["files"]
    assert entry["binary"] is True and entry["path"] == "assets/logo.png"


def test_an_empty_commit_has_no_files(commits: dict) -> None:
    assert commits["Release chores"][1]["files"] == []


def test_merges_on_the_first_parent_chain_list_files_against_their_first_parent(
    commits: dict,
) -> None:
    _, merge = commits["Merge branch 'old-feature'"]
    assert merge["is_merge"] is True and merge["first_parent"] is True
    assert len(merge["parents"]) == 2
    assert merge["files"] == [{"path": "src/parser.py", "change_type": "A", "binary": None,
                               "lines_added": None, "lines_removed": None}]


def test_side_branch_commits_are_not_on_the_first_parent_chain(commits: dict) -> None:
    ts, side = commits["Add parser on a long-lived branch"]
    assert side["first_parent"] is False
    assert ts == "2024-01-03T12:00:00Z"  # back-dated: sorted before the mainline commits after it
    assert commits["Add logo"][1]["first_parent"] is True


def test_mailmap_from_the_target_tree_rewrites_authors(commits: dict) -> None:
    author = commits["Old address commit"][1]["author"]
    assert (author["name"], author["email"]) == ("Bob Builder", "bob@example.com")


def test_non_utf8_message_and_path_are_decoded_deterministically(commits: dict) -> None:
    subject = "R\ufffdsum\ufffd added"
    _, data = commits[subject]
    assert data["files"][0]["path"] == "docs/r\\xe9sum\\xe9.txt"


def test_tags_are_events(history_repo: Path, tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    scrape(GitRepo.discover(history_repo), db, scrapers=["git"])
    tags = _events(db, "git.tag")
    assert sorted(tags) == ["v0.1.0", "v0.2.0"]
    ts, annotated = tags["v0.1.0"]
    assert ts == "2024-01-07T11:00:00Z"
    assert annotated["annotated"] is True and annotated["message"] == "First release"
    assert annotated["tagger"] == {"name": "Alice Example", "email": "alice@example.com"}
    ts, light = tags["v0.2.0"]
    assert light["annotated"] is False and ts == "2024-02-01T10:00:00Z"


def test_user_git_config_does_not_change_the_log(history_repo: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning.eventlog.digest import digest

    scrape(GitRepo.discover(history_repo), tmp_path / "a.db", scrapers=["git"])
    a = digest(database.connect(tmp_path / "a.db", write=False)).sha256
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[diff]\n\trenames = false\n[log]\n\tshowSignature = true\n"
                                     "[core]\n\tquotepath = true\n[mailmap]\n\tfile = /nope\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    scrape(GitRepo.discover(history_repo), tmp_path / "b.db", scrapers=["git"])
    assert digest(database.connect(tmp_path / "b.db", write=False)).sha256 == a


def test_the_log_shared_among_git_processes_gives_the_same_events(
        history_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning.eventlog.digest import digest
    from kenning.scrapers import git_log as git
    from kenning.scrapers.base import ScrapeOptions

    found = []
    for name, workers in (("one", 1), ("three", 3)):
        if workers > 1:  # the fixture is small: share it from one commit per process on,
            monkeypatch.setattr(git, "_COMMITS_PER_PROCESS", 1)  # in blocks of 3 x 2
            monkeypatch.setattr(git, "_BLOCK_PER_PROCESS", 2)
        db = tmp_path / f"{name}.db"
        scrape(GitRepo.discover(history_repo), db, scrapers=["git"],
               options=ScrapeOptions(workers=workers))
        found.append((digest(database.connect(db, write=False)).sha256,
                      _events(db, "git.commit")))
    assert found[0] == found[1]
    assert len(found[0][1]) > 3


def test_a_corrupt_tree_anywhere_in_a_shared_log_is_one_clear_error(
        history_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every commit's tree in turn: some fail in the streamed git process, some in the
    # spooled ones, some in the merge pass before them
    import shutil
    import subprocess

    from kenning.errors import KenningError
    from kenning.scrapers import git_log as git
    from kenning.scrapers.base import ScrapeOptions

    monkeypatch.setattr(git, "_COMMITS_PER_PROCESS", 1)
    revs = subprocess.run(["git", "rev-list", "HEAD"], cwd=history_repo, check=True,
                          capture_output=True, text=True).stdout.split()
    assert len(revs) > 6
    for n, rev in enumerate(revs):
        repo = tmp_path / f"repo{n}"
        shutil.copytree(history_repo, repo)
        tree = subprocess.run(["git", "rev-parse", f"{rev}^{{tree}}"], cwd=repo, check=True,
                              capture_output=True, text=True).stdout.strip()
        loose = repo / ".git" / "objects" / tree[:2] / tree[2:]
        loose.chmod(0o644)
        loose.write_bytes(b"garbage")
        with pytest.raises(KenningError, match="git cannot read the repository"):
            scrape(GitRepo.discover(repo), tmp_path / f"{n}.db", scrapers=["git"],
                   options=ScrapeOptions(workers=3))
        assert not (tmp_path / f"{n}.db").exists()  # nothing half-made
