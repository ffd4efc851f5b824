"""`kenning scrape --until DATE|REV`: the project as it stood then."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kenning.eventlog import database
from kenning.eventlog.digest import rows
from kenning.repository.gitrepo import GitRepo
from kenning.repository.timespec import parse_time
from kenning.scrapers.engine import scrape


def _canonical(db: Path, cutoff: str | None = None) -> list[str]:
    conn = database.connect(db, create=False)
    return [e.canonical() for _, _, e in rows(conn) if cutoff is None or e.timestamp <= cutoff]


def _clone_at(source: Path, commit: str, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(dest)], check=True)
    subprocess.run(["git", "checkout", "-q", commit], cwd=dest, check=True)
    for tag in subprocess.run(["git", "tag", "-l"], cwd=source, capture_output=True, text=True,
                              check=True).stdout.split():
        subprocess.run(["git", "fetch", "-q", "origin", f"refs/tags/{tag}:refs/tags/{tag}"],
                       cwd=dest, check=True)
    return dest


@pytest.mark.parametrize("until, expected_subject", [
    ("2024-01-05", "Move app.py to core.py"),      # end of that day in UTC
    ("2024-01-07T10:30:00+00:00", "Add caf\u00e9 notes"),  # an ISO time, taken as given
    ("2024-01-10T06:00:00-05:00", "Old address commit"),  # an offset: 11:00 UTC
])
def test_until_date_equals_a_full_scrape_of_a_checkout_filtered_by_date(
    history_repo: Path, tmp_path: Path, until: str, expected_subject: str
) -> None:
    repo = GitRepo.discover(history_repo)
    result = scrape(repo, tmp_path / "until.db", until=until)
    assert result.cutoff is not None and result.target is not None
    subject = repo.run("show", "-s", "--format=%s", result.target).decode().strip()
    assert subject == expected_subject
    clone = _clone_at(history_repo, result.target, tmp_path / "clone")
    scrape(GitRepo.discover(clone), tmp_path / "clone.db")
    assert _canonical(tmp_path / "until.db") == _canonical(tmp_path / "clone.db", result.cutoff)


def test_until_revision_scrapes_that_commit(history_repo: Path, tmp_path: Path) -> None:
    repo = GitRepo.discover(history_repo)
    result = scrape(repo, tmp_path / "rev.db", until="v0.1.0")
    assert result.target == repo.resolve_commit("v0.1.0")
    clone = _clone_at(history_repo, result.target or "", tmp_path / "clone")
    scrape(GitRepo.discover(clone), tmp_path / "clone.db")
    assert _canonical(tmp_path / "rev.db") == _canonical(tmp_path / "clone.db", result.cutoff)


def test_a_bare_date_means_the_end_of_that_day_in_utc() -> None:
    assert parse_time("2024-06-30") == parse_time("2024-06-30T23:59:59+00:00")
    assert parse_time("2024-06-30T12:00:00+02:00") == parse_time("2024-06-30T10:00:00Z")


def test_merged_side_commits_from_before_the_date_are_in_the_past_log(
    history_repo: Path, tmp_path: Path
) -> None:
    """On 2024-01-20 the old branch was not merged yet: its commits are not in the log."""
    scrape(GitRepo.discover(history_repo), tmp_path / "jan.db", until="2024-01-20")
    subjects = " ".join(_canonical(tmp_path / "jan.db"))
    assert "Add parser on a long-lived branch" not in subjects
    assert "Old address commit" in subjects
