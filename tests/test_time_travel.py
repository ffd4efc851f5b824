"""Whole-database time travel: `scrape --until` builds everything as of that point.

The project fixture is the standard history (renames, a late-merged branch,
tags, code) plus a session note and later code changes, so every materializer
has rows and the past differs from HEAD in code, sessions and co-changes.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fixtures import history
from fixtures.builder import BOB
from kenning.api.handle import ScrapeReport
from kenning.eventlog import database
from kenning.materialize.digest import digest_all
from kenning.repository.gitrepo import GitRepo
from tests.conftest import update

SESSION = """# Session: Parser cleanup
**ID**: 20240203-090000
**Started**: 2024-02-03T09:00:00+00:00

## Goals
- [x] Make the parser handle tabs and spaces

## Activity Log
### 09:30 - Update
**Key Decisions:**
- Keep the parser in src/parser.py and split on any whitespace
**Work Completed:**
- Rewrote parse() in src/parser.py
"""


def build_project(path: Path) -> None:
    """history.build, then a session note and two more code changes."""
    r = history.build(path)
    r.commit("Parser splits on any whitespace\n\nRefs #15", "2024-02-03T12:00:00+00:00", {
        "src/parser.py": "def parse(text):\n    \"\"\"Split on whitespace.\"\"\"\n"
                         "    return text.split()\n",
        "layer/sessions/20240203-090000.md": SESSION,
    })
    r.commit("Core uses the parser", "2024-02-05T08:00:00+00:00", {
        "src/core.py": "from parser import parse\n\n\ndef main(text):\n"
                       "    return len(parse(text))\n",
        "src/parser.py": "def parse(text):\n    \"\"\"Split on whitespace.\"\"\"\n"
                         "    return text.split()\n\n\ndef count(text):\n"
                         "    return len(parse(text))\n",
    }, author=BOB)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    build_project(path)
    return path


def clone_at(source: Path, commit: str, dest: Path) -> Path:
    """A real clone (objects copied), checked out at `commit`, with every tag."""
    subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(dest)], check=True)
    subprocess.run(["git", "checkout", "-q", commit], cwd=dest, check=True)
    subprocess.run(["git", "fetch", "-q", "--tags", "origin"], cwd=dest, check=True)
    return dest


def everything(db: Path) -> dict[str, object]:
    """`digest --all` as data: the eventlog digest and every table's digest."""
    conn = database.connect(db, write=False)
    try:
        log, tables = digest_all(conn)
    finally:
        conn.close()
    return {"eventlog": (log.sha256, log.counts),
            "tables": {t.table: (t.rows, t.sha256) for t in tables}}


@pytest.mark.parametrize("until", [
    "2024-01-05",                  # before the rename's follow-ups and the merge
    "2024-01-10T06:00:00-05:00",   # an offset; the long-lived branch is not merged yet
    "2024-02-04",                  # after the session note and the parser rewrite
])
def test_until_builds_the_same_database_as_a_clone_checked_out_then(
    project: Path, tmp_path: Path, until: str
) -> None:
    repo = GitRepo.discover(project)
    past = update(repo, tmp_path / "past.db", until=until)
    target = past.scrape.target
    assert target is not None and target != repo.head()
    built = {r.name for r in past.materialized if r.action == "rebuilt"}
    assert built == {"views", "fts", "co_changes", "expertise", "signals", "embeddings"}

    clone = clone_at(project, target, tmp_path / "clone")
    checkout = update(GitRepo.discover(clone), tmp_path / "clone.db", until=until)
    assert checkout.scrape.target == target

    ours, theirs = everything(tmp_path / "past.db"), everything(tmp_path / "clone.db")
    assert ours == theirs
    head = update(repo, tmp_path / "head.db")
    assert head.scrape.target == repo.head()
    assert everything(tmp_path / "head.db") != ours  # the past really is another database
    tables = ours["tables"]
    assert isinstance(tables, dict)
    assert tables["embeddings"][0] == tables["documents"][0] > 0  # vectors for every document


def _embedded(db: Path) -> set[str]:
    conn = database.connect(db, write=False)
    try:
        return {str(r[0]) for r in conn.execute("SELECT text_hash FROM embeddings")}
    finally:
        conn.close()


def _embed_stats(result: ScrapeReport) -> dict[str, Any]:
    (run,) = [r for r in result.materialized if r.name == "embeddings"]
    return run.details


def test_a_time_travel_rebuild_after_a_head_scrape_embeds_only_texts_gone_since(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh-cache"))  # an empty cache
    repo = GitRepo.discover(project)
    head_stats = _embed_stats(update(repo, tmp_path / "head.db"))
    head_hashes = _embedded(tmp_path / "head.db")
    assert head_stats["embedded"] == len(head_hashes) > 10

    stats = _embed_stats(update(repo, tmp_path / "past.db", until="2024-01-07"))
    past_hashes = _embedded(tmp_path / "past.db")
    gone = past_hashes - head_hashes  # texts of the past that HEAD no longer has
    assert gone, "the fixture's past must hold code that HEAD changed"
    assert stats["embedded"] == len(gone)
    assert stats["cached"] == len(past_hashes & head_hashes) > 0


def test_the_cli_reports_zero_new_embeddings_when_the_past_is_all_cached(
    project: Path, tmp_path: Path, kenning: object
) -> None:
    run = kenning
    assert callable(run)
    run("scrape", "--db", str(tmp_path / "head.db"), cwd=project)
    run("scrape", "--until", "2024-02-04", "--db", str(tmp_path / "a.db"), cwd=project)
    again = run("scrape", "--until", "2024-02-04", "--db", str(tmp_path / "b.db"),
                cwd=project)
    assert "embeddings: 0 texts embedded" in again.stdout
    assert everything(tmp_path / "a.db") == everything(tmp_path / "b.db")
    hashes = _embedded(tmp_path / "b.db")
    assert re.search(rf"embeddings: 0 texts embedded, {len(hashes)} from the cache", again.stdout)
    assert hashes


def test_scry_until_filters_by_time_and_says_derived_figures_are_as_of_now(
    project: Path, tmp_path: Path, kenning: object
) -> None:
    run = kenning
    assert callable(run)
    db = str(tmp_path / "k.db")
    run("scrape", "--no-embed", "--db", db, cwd=project)
    proc = run("scry", "parser", "--mode", "lexical", "--until", "2024-01-10", "--json",
               "--db", db, cwd=project)
    answer = json.loads(proc.stdout)
    assert answer["results"]
    assert all(r["time"] <= "2024-01-10T23:59:59Z" for r in answer["results"])
    assert any("derived figures (co-change, expertise, signals) are today's" in n
               for n in answer["notes"])
    plain = run("scry", "--file", "src/parser.py", "--until", "2024-01-10", "--db", db,
                cwd=project)
    assert "kenning scrape --until DATE, then scry --until DATE" in plain.stderr


def test_a_tag_bounds_a_query_at_its_commits_time(project: Path, tmp_path: Path,
                                                 kenning: object) -> None:
    """`scry --until v0.1.0` without a past database of its own filters by the tagged
    commit's time, as `scrape --until v0.1.0` builds as of that commit; --since too."""
    run = kenning
    assert callable(run)
    db = str(tmp_path / "k.db")
    run("scrape", "--no-embed", "--db", db, cwd=project)
    tagged = subprocess.run(["git", "log", "-1", "--format=%cI", "v0.1.0^{commit}"],
                            cwd=project, capture_output=True, text=True, check=True)
    moment = tagged.stdout.strip()

    def results(*bound: str) -> list[tuple[str, str]]:
        proc = run("scry", "parser", "--mode", "lexical", "--limit", "50", "--json", *bound,
                   "--db", db, cwd=project)
        return [(r["event_id"], r["time"]) for r in json.loads(proc.stdout)["results"]]

    for option in ("--until", "--since"):
        by_tag = results(option, "v0.1.0")
        assert by_tag == results(option, moment)
        assert by_tag and by_tag != results()
    unknown = run("scry", "parser", "--until", "v9.9", "--db", db, cwd=project, check=False)
    assert unknown.returncode == 2
    assert unknown.stderr == ("kenning: cannot read --until 'v9.9': not a revision of this "
                              "repository, and not a date (YYYY[-MM[-DD]], an ISO time with "
                              "offset, or a git date such as '2 weeks ago')\n")


def test_the_past_gets_a_database_of_its_own_and_answers_say_their_date(
        project: Path, kenning: object) -> None:
    run = kenning
    assert callable(run)
    run("scrape", "--no-embed", cwd=project)
    main = project / ".kenning" / "kenning.db"
    before = main.read_bytes()
    past = run("scrape", "--no-embed", "--until", "2024-01-10", cwd=project)
    assert main.read_bytes() == before  # the main database was not rewound
    (built,) = (project / ".kenning" / "past").glob("2024-01-10-*.db")
    assert str(built) in past.stdout
    then = run("scry", "parser", "--mode", "lexical", "--until", "2024-01-10", "--json",
               cwd=project)
    assert any(n.startswith("answers as of 2024-01-10 (") for n in json.loads(then.stdout)["notes"])
    now = run("scry", "parser", "--mode", "lexical", "--json", cwd=project)
    assert json.loads(now.stdout)["notes"] == []  # at HEAD: nothing to say


def test_answers_say_when_the_database_is_behind_head(history_repo: Path,
                                                      kenning: object) -> None:
    from fixtures.builder import RepoBuilder

    run = kenning
    assert callable(run)
    run("scrape", "--no-embed", cwd=history_repo)
    r = RepoBuilder.__new__(RepoBuilder)
    r.path = history_repo
    r.commit("One more", "2024-03-01T10:00:00+00:00", {"x.txt": "x\n"})
    r.commit("And another", "2024-03-02T10:00:00+00:00", {"x.txt": "y\n"})
    proc = run("scry", "parser", "--mode", "lexical", cwd=history_repo)
    assert "note: the database is 2 commits behind HEAD" in proc.stderr
    assert "run `kenning scrape`" in proc.stderr
    status = run("status", cwd=history_repo).stdout
    assert "2 commits behind HEAD" in status
