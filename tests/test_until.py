"""`kenning scrape --until DATE|REV`: the project as it stood then."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kenning.eventlog import database
from kenning.eventlog.digest import rows
from kenning.eventlog.events import utc_timestamp
from kenning.repository.gitrepo import GitRepo
from kenning.repository.timespec import read_time, resolve_until
from kenning.scrapers.engine import scrape
from kenning.scry.filters import Filters, where


def _canonical(db: Path, cutoff: str | None = None) -> list[str]:
    conn = database.connect(db, write=False)
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


def parse_time(text: str, *, end: bool = True) -> int:
    return read_time(text, end=end, option="--until")


def test_a_bare_date_means_the_end_of_that_day_in_utc() -> None:
    assert parse_time("2024-06-30") == parse_time("2024-06-30T23:59:59+00:00")
    assert parse_time("2024-06-30T12:00:00+02:00") == parse_time("2024-06-30T10:00:00Z")


def test_a_year_or_a_month_is_the_whole_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_time("2024", end=False) == parse_time("2024-01-01T00:00:00Z")
    assert parse_time("2024") == parse_time("2024-12-31T23:59:59Z")
    assert parse_time("2024-02", end=False) == parse_time("2024-02-01T00:00:00Z")
    assert parse_time("2024-02") == parse_time("2024-02-29T23:59:59Z")  # a leap year
    assert parse_time("2023-12") == parse_time("2023-12-31T23:59:59Z")
    # scry's --since/--until read the same way
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # the machine's zone plays no part
    _, bounds = where(None, Filters(since="2024", until="2024-06"))  # type: ignore[arg-type]
    assert bounds == ["2024-01-01T00:00:00Z", "2024-06-30T23:59:59Z"]


# what `git log --since` reads, relative to now; GIT_TEST_DATE_NOW is git's own switch
# that fixes "now" (here 2024-01-21T10:30:00Z), so the test does not depend on the day
NOW = "1705833000"


@pytest.mark.parametrize("words, moment", [
    ("2 weeks ago", "2024-01-07T10:30:00Z"),
    ("yesterday", "2024-01-20T10:30:00Z"),
    ("3.days.ago", "2024-01-18T10:30:00Z"),
    ("1 hour ago", "2024-01-21T09:30:00Z"),
    ("last friday", "2024-01-19T10:30:00Z"),
    ("now", "2024-01-21T10:30:00Z"),
])
def test_relative_dates_are_read_as_git_reads_them(monkeypatch: pytest.MonkeyPatch, words: str,
                                                   moment: str) -> None:
    monkeypatch.setenv("GIT_TEST_DATE_NOW", NOW)
    monkeypatch.setenv("TZ", "America/Los_Angeles")  # read in UTC all the same
    assert parse_time(words) == parse_time(moment)
    assert read_time(words, end=False, option="--since") == parse_time(moment)


def test_until_two_weeks_ago_scrapes_the_commit_of_then(history_repo: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setenv("GIT_TEST_DATE_NOW", NOW)
    repo = GitRepo.discover(history_repo)
    result = scrape(repo, tmp_path / "then.db", until="2 weeks ago")
    assert result.cutoff == "2024-01-07T10:30:00Z"  # the moment it meant, recorded
    subject = repo.run("show", "-s", "--format=%s", result.target or "").decode().strip()
    assert subject == "Add caf\u00e9 notes"


def test_a_numeric_tag_is_a_revision_not_a_date(history_repo: Path, tmp_path: Path) -> None:
    repo = GitRepo.discover(history_repo)
    tagged = repo.run("rev-parse", "HEAD~3").decode().strip()
    repo.run("tag", "2.0.0", tagged)
    result = scrape(repo, tmp_path / "tag.db", until="2.0.0")
    assert result.target == tagged
    assert result.cutoff == utc_timestamp(repo.commit_time(tagged))


def test_a_year_is_never_read_as_a_short_commit_id(history_repo: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """git accepts a commit id of four hex digits; `--until 2087` still means the year
    (unless a tag or branch is called that)."""
    for who in ("AUTHOR", "COMMITTER"):  # fixed, so the same commits are made every time
        monkeypatch.setenv(f"GIT_{who}_NAME", "Alice Example")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "alice@example.com")
        monkeypatch.setenv(f"GIT_{who}_DATE", "2024-03-01T10:00:00+00:00")
    repo = GitRepo.discover(history_repo)
    head = repo.head() or ""
    tree = repo.run("rev-parse", "HEAD^{tree}").decode().strip()
    for i in range(100_000):  # a commit whose id starts with a year
        sha = repo.run("commit-tree", tree, "-m", f"try {i}").decode().strip()
        if re.fullmatch(r"19[7-9]\d|2\d{3}", sha[:4]):
            break
    year = sha[:4]
    assert repo.resolve_commit(year) == sha  # what git itself would take it for
    assert resolve_until(repo, head, year).target == head  # the year, after all of history
    repo.run("tag", year, "HEAD~2")
    assert resolve_until(repo, head, year).target == repo.resolve_commit("HEAD~2")


def test_merged_side_commits_from_before_the_date_are_in_the_past_log(
    history_repo: Path, tmp_path: Path
) -> None:
    """On 2024-01-20 the old branch was not merged yet: its commits are not in the log."""
    scrape(GitRepo.discover(history_repo), tmp_path / "jan.db", until="2024-01-20")
    subjects = " ".join(_canonical(tmp_path / "jan.db"))
    assert "Add parser on a long-lived branch" not in subjects
    assert "Old address commit" in subjects
