"""Clones that lack blobs (issue 12 item 3): a partial clone whose promisor remote is
gone, and a repository that lacks one blob (an incomplete mirror). The scrape goes on,
never fetches, says once what it could not read, and `status`/`digest` say the log
depends on which objects this clone has. A damaged object still stops it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fixtures.clones import (
    build_large_files,
    clone,
    corrupt_object,
    cut_off_promisor,
    git,
    missing_objects,
    remove_object,
)
from kenning.api.verify import verify
from kenning.errors import KenningError
from kenning.eventlog import database
from kenning.eventlog.digest import digest
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import ScrapeResult, scrape


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_large_files(tmp_path_factory.mktemp("large") / "source").path


def _commits(db: Path) -> dict[str, dict]:
    conn = database.connect(db, write=False)
    return {d["subject"]: d for d in (json.loads(row) for (row,) in conn.execute(
        "SELECT data FROM eventlog WHERE event_type = 'git.commit'"))}


def _statuses(db: Path, scraper: str) -> dict[str, str]:
    conn = database.connect(db, write=False)
    return dict(conn.execute("SELECT unit, status FROM scrape_units WHERE scraper = ?",
                             (scraper,)).fetchall())


def _digest(db: Path) -> str:
    return digest(database.connect(db, write=False)).sha256


def _one_missing_blob_warning(result: ScrapeResult) -> str:
    kinds = [w.kind for w in result.warnings]
    assert kinds == ["missing-blob"], result.warnings
    return result.warnings[0].message


def _unknown(path: str, change: str, **extra: str) -> dict:
    return {"path": path, "change_type": change, "lines_added": None, "lines_removed": None,
            "binary": None, **extra}


def test_a_partial_clone_whose_remote_is_gone(source: Path, tmp_path: Path) -> None:
    partial = clone(source, tmp_path / "partial", "--filter=blob:limit=1k", "--no-checkout")
    cut_off_promisor(partial)
    lacking = missing_objects(partial)
    assert len(lacking) >= 5  # every version of the large files
    repo = GitRepo.discover(partial)
    db = tmp_path / "k.db"

    message = _one_missing_blob_warning(scrape(repo, db))
    assert "6 commits without line counts" in message and "2 code files skipped" in message
    assert "1 session note skipped" in message
    assert "differs from a full clone's" in message
    commits = _commits(db)
    assert len(commits) == int(git(source, "rev-list", "--count", "HEAD"))
    tune = commits["Tune the parser"]
    assert tune["files"] == [_unknown("src/app.py", "M"), _unknown("vendor/parser.c", "M")]
    assert tune["missing_blobs"] == ["vendor/parser.c"]
    # the rename is found from the blob ids alone, as git finds an exact rename
    assert commits["Rename the parser"]["files"] == [
        _unknown("vendor/parse.c", "R", old_path="vendor/parser.c")]
    assert commits["Merge branch 'side'"]["files"] == [_unknown("data/table.c", "A")]
    fix = commits["Small fix"]  # needs no missing blob: read in full
    assert fix["files"] == [{"path": "src/app.py", "change_type": "M", "lines_added": 1,
                             "lines_removed": 1, "binary": False}]
    assert "missing_blobs" not in fix
    code = _statuses(db, "code")
    assert code["src/model.py"] == code["data/table.c"] == "skipped:missing-blob"
    assert code["src/app.py"] == "ok"
    assert _statuses(db, "sessions") == {"layer/sessions/20240307-100000.md":
                                         "skipped:missing-blob"}
    assert missing_objects(partial) == lacking  # nothing was fetched

    # again: nothing to do, and the same one warning
    again = scrape(repo, db)
    assert again.unchanged and _one_missing_blob_warning(again) == message
    assert verify(repo, db).ok


def test_kenning_never_fetches_from_a_reachable_promisor_remote(
        source: Path, tmp_path: Path, kenning) -> None:
    partial = clone(source, tmp_path / "partial", "--filter=blob:limit=1k", "--no-checkout")
    lacking = missing_objects(partial)
    kenning("scrape", "--no-embed", cwd=partial)
    kenning("verify", cwd=partial)
    assert missing_objects(partial) == lacking
    # even a direct request cannot fetch: git is run with every transport switched off
    with pytest.raises(KenningError, match="without fetching"):
        GitRepo.discover(partial).read_blob(lacking[0])
    assert missing_objects(partial) == lacking


def test_blobs_that_arrive_later_are_read(source: Path, tmp_path: Path) -> None:
    partial = clone(source, tmp_path / "partial", "--filter=blob:limit=1k", "--no-checkout")
    repo = GitRepo.discover(partial)
    db = tmp_path / "k.db"
    scrape(repo, db)
    git(partial, "cat-file", "-p", "HEAD~1:src/model.py")  # git fetches it (kenning would not)
    git(partial, "cat-file", "-p", "HEAD~2:src/model.py")
    result = scrape(repo, db)
    assert not result.unchanged
    grow = _commits(db)["Grow the model, drop the parser"]
    assert grow["missing_blobs"] == ["layer/sessions/20240307-100000.md", "vendor/parse.c"]
    assert _statuses(db, "code")["src/model.py"] == "ok"
    scrape(repo, tmp_path / "full.db")
    assert _digest(db) == _digest(tmp_path / "full.db")


def test_a_repository_that_lacks_a_blob(source: Path, tmp_path: Path, kenning) -> None:
    lacking = tmp_path / "lacking"
    shutil.copytree(source, lacking)
    blob = git(lacking, "rev-parse", "HEAD~1:src/model.py")  # also the tip's model.py
    remove_object(lacking, blob)
    repo = GitRepo.discover(lacking)
    db = tmp_path / "k.db"

    message = _one_missing_blob_warning(scrape(repo, db))
    assert "1 commit without line counts" in message and "1 code file skipped" in message
    grow = _commits(db)["Grow the model, drop the parser"]
    assert grow["missing_blobs"] == ["src/model.py"]
    assert grow["files"] == [_unknown("NOTES.txt", "A"),
                             _unknown("layer/sessions/20240307-100000.md", "A"),
                             _unknown("src/model.py", "M"), _unknown("vendor/parse.c", "D")]
    assert _commits(db)["Tune the parser"]["files"][1]["lines_added"] == 80  # the others: in full
    assert _statuses(db, "code")["src/model.py"] == "skipped:missing-blob"
    assert verify(repo, db).ok

    # a new commit: scraped incrementally, equal to a full scrape
    (lacking / "src" / "extra.py").write_text("def extra():\n    return 1\n")
    git(lacking, "add", "src/extra.py")  # -A would write the missing blob back
    tree = git(lacking, "write-tree", "--missing-ok")  # `git commit` refuses: a blob is missing
    new = git(lacking, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit-tree",
              tree, "-p", "HEAD", "-m", "Extra")
    git(lacking, "update-ref", "HEAD", new)
    _one_missing_blob_warning(scrape(repo, db))
    scrape(repo, tmp_path / "full.db")
    assert _digest(db) == _digest(tmp_path / "full.db")

    status = kenning("status", "--db", str(db), cwd=lacking).stdout
    assert "depends on which objects this clone has" in status
    assert json.loads(kenning("status", "--json", "--db", str(db), cwd=lacking).stdout)[
        "missing_blobs"] == {"code skipped:missing-blob": 1, "git partial:missing-blob": 1}
    assert "depends on which objects this clone has" in kenning(
        "digest", "--db", str(db), cwd=lacking).stdout
    assert json.loads(kenning("digest", "--json", "--db", str(db), cwd=lacking).stdout)[
        "complete"] is False

    # the blob comes back: the log is a full clone's again, and says so
    shutil.copy(source / ".git" / "objects" / blob[:2] / blob[2:],
                lacking / ".git" / "objects" / blob[:2] / blob[2:])
    result = scrape(repo, db)
    assert result.warnings == []
    assert "missing_blobs" not in _commits(db)["Grow the model, drop the parser"]
    scrape(repo, tmp_path / "full2.db")
    assert _digest(db) == _digest(tmp_path / "full2.db")
    assert "depends on which objects" not in kenning("status", "--db", str(db),
                                                     cwd=lacking).stdout


@pytest.mark.parametrize("which, how", [
    ("HEAD~1:src/model.py", "zlib"),  # a blob the log and the code scraper read
    ("HEAD~6:vendor/parser.c", "zlib"),  # a blob only an old diff reads
    ("HEAD~1:src/model.py", "type"),  # a commit where the tree says blob (git diffs it as
    # a blob without a word; the code scraper sees the type)
    ("HEAD~2:src", "type"),  # a blob where a tree was
])
def test_a_damaged_object_still_stops_the_scrape(source: Path, tmp_path: Path, kenning,
                                                 which: str, how: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # a cold parse cache: a blob whose facts are cached is not read again, and git's own
    # diff does not look at the type of what it diffs
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    damaged = tmp_path / "damaged"
    shutil.copytree(source, damaged)
    corrupt_object(damaged, git(damaged, "rev-parse", which), how)
    with pytest.raises(KenningError, match=r"git cannot read the repository .*git fsck"):
        scrape(GitRepo.discover(damaged), tmp_path / "k.db")
    assert not (tmp_path / "k.db").exists()
    proc = kenning("scrape", "--no-embed", cwd=damaged, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("kenning: git cannot read the repository") and "git fsck" in line


def test_a_clone_that_lacks_trees_is_one_clear_error(source: Path, tmp_path: Path,
                                                     kenning) -> None:
    """Without trees there is no diff to read: kenning says so and still fetches nothing."""
    treeless = clone(source, tmp_path / "treeless", "--filter=tree:0", "--no-checkout")
    lacking = missing_objects(treeless)
    proc = kenning("scrape", "--no-embed", cwd=treeless, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("kenning: git cannot read the repository without fetching")
    assert missing_objects(treeless) == lacking
    assert not (treeless / ".kenning" / "kenning.db").exists()
