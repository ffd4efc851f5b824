"""experts_for: who knows a set of files, against fixtures/experts.py (its docstring
has the history), scraped and materialized for real."""

from __future__ import annotations

import shutil
from pathlib import Path

import apsw
import pytest

from fixtures import experts
from kenning.errors import KenningError
from kenning.repository.gitrepo import GitRepo
from kenning.scry.file_report import file_report
from kenning.scry.people import Person, experts_for
from tests.conftest import Runner, update

OLGA, NICK, PAT = "olga@example.com", "nick@example.com", "pat@example.com"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("people")
    experts.build(root / "repo")
    update(GitRepo.discover(root / "repo"), root / "kenning.db", embed=False)
    return root / "kenning.db"


@pytest.fixture
def conn(db: Path) -> apsw.Connection:
    return apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)


def score(conn: apsw.Connection, path: str, author: str) -> float:
    return conn.execute("SELECT score FROM expertise WHERE path = ? AND author = ?",
                        (path, author)).fetchone()[0]


def test_the_experts_of_one_file(conn: apsw.Connection) -> None:
    people = experts_for(conn, [("src/core.py", 1.0)])
    assert [(p.author, p.name, p.commits, p.lines_added) for p in people] == [
        (OLGA, "Olga Old", 20, 20), (NICK, "Nick New", 1, 50)]
    assert people[0].files == ["src/core.py"]
    assert people[0].score == pytest.approx(score(conn, "src/core.py", OLGA), rel=1e-12)


def test_scores_add_up_over_the_files_by_their_weight(conn: apsw.Connection) -> None:
    files = [("src/cli.py", 0.75), ("src/core.py", 0.25)]
    people = {p.author: p for p in experts_for(conn, files)}
    assert set(people) == {OLGA, NICK, PAT}
    for author, person in people.items():
        want = sum(w * score(conn, path, author) for path, w in files
                   if conn.execute("SELECT 1 FROM expertise WHERE path = ? AND author = ?",
                                   (path, author)).fetchone())
        assert person.score == pytest.approx(want, rel=1e-12), author
    # Nick did most of cli.py, the file that answers best: he leads, cli.py first
    assert experts_for(conn, files)[0].author == NICK
    assert people[NICK].files == ["src/cli.py", "src/core.py"]
    assert (people[OLGA].commits, people[OLGA].lines_added) == (21, 21)
    # weighted the other way round, core.py's Olga leads
    assert experts_for(conn, [(p, 1 - w) for p, w in files])[0].author == OLGA


def test_a_person_is_named_by_their_newest_name(conn: apsw.Connection) -> None:
    # Pat wrote docs/guide.md as "pat" (2021), then src/cli.py as "Pat Smith" (2023)
    people = experts_for(conn, [("docs/guide.md", 1.0), ("src/cli.py", 0.01)])
    pat = next(p for p in people if p.author == PAT)
    assert (pat.name, pat.last_touch) == ("Pat Smith", "2023-05-01T12:00:00Z")
    assert pat.files == ["docs/guide.md", "src/cli.py"]
    alone = experts_for(conn, [("docs/guide.md", 1.0)])
    assert [(p.author, p.name) for p in alone] == [(PAT, "pat")]


def test_ties_break_by_author_and_limit_cuts(conn: apsw.Connection) -> None:
    assert [p.author for p in experts_for(conn, [("tie.py", 1.0)])] == [
        "yan@example.com", "zed@example.com"]
    assert [p.author for p in experts_for(conn, [("tie.py", 1.0)], limit=1)] == [
        "yan@example.com"]


def test_repeated_unknown_and_weightless_files(conn: apsw.Connection) -> None:
    once = experts_for(conn, [("src/core.py", 0.5)])
    twice = experts_for(conn, [("src/core.py", 0.5), ("src/core.py", 0.2), ("nope.py", 1.0),
                               ("src/cli.py", 0.0)])
    assert [p.as_json() for p in twice] == [p.as_json() for p in once]
    assert experts_for(conn, []) == []
    assert experts_for(conn, [("nope.py", 1.0)]) == []
    with pytest.raises(KenningError, match="--limit"):
        experts_for(conn, [("src/core.py", 1.0)], limit=0)


def test_as_json(conn: apsw.Connection) -> None:
    person = experts_for(conn, [("tie.py", 1.0)])[0]
    assert isinstance(person, Person)
    assert person.as_json() == {
        "name": "Yan", "author": "yan@example.com", "score": round(person.score, 6),
        "files": ["tie.py"], "commits": 1, "lines_added": 2,
        "last_touch": "2023-06-01T12:00:00Z"}


def test_no_expertise_table_means_no_people(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    conn = apsw.Connection(str(copy))
    conn.execute("DROP VIEW expertise_main; DROP VIEW expertise")
    assert experts_for(conn, [("src/core.py", 1.0)]) == []


# -- scry --file: the same ranking, with what each expert did -----------------------------


def test_the_file_report_ranks_experts_as_experts_for(conn: apsw.Connection) -> None:
    for path in ("src/core.py", "src/cli.py", "tie.py"):
        report = file_report(conn, path)
        assert [e["author"] for e in report.experts] == [
            p.author for p in experts_for(conn, [(path, 1.0)])], path
    report = file_report(conn, "src/core.py", limit=1)
    assert [(e["author"], e["commits"], e["lines_added"]) for e in report.experts] == [
        (OLGA, 20, 20)]
    # the main developer (most lines added) is named though the limit leaves him out
    assert report.main_developer == "Nick New <nick@example.com>"


def test_scry_file_shows_commits_and_lines_added(db: Path, kenning: Runner) -> None:
    text = kenning("scry", "--file", "src/core.py", "--db", str(db), cwd=db.parent / "repo"
                   ).stdout
    experts = text[text.index("experts"):text.index("activity")].splitlines()
    assert "commits, lines added" in experts[0]
    assert "main developer: Nick New <nick@example.com>" in experts[0]
    olga, nick = experts[1].split(), experts[2].split()
    assert olga[1:4] == ["20", "20", "29%"] and olga[-1] == "<olga@example.com>"
    assert nick[1:4] == ["1", "50", "71%"] and nick[-2:] == ["<nick@example.com>", "(main)"]
