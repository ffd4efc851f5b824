"""scry's ranking as a user sees it: one slot per file, tests after source, definitions
first, history as evidence, grouped history, intent, people, and --explain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.builder import ALICE, BOB, RepoBuilder
from kenning.eventlog import database
from kenning.repository.gitrepo import GitRepo
from kenning.scry import intent, people, rank
from kenning.scry.filters import Filters
from kenning.scry.search import Answer, Searcher
from tests.conftest import Runner, update

ROUTER = '''"""Routing requests to handlers."""


class RouteTable:
    """Every route of the application, matched by path."""

    def add(self, path, handler):
        """Add a route path and its handler."""
        self.routes[path] = handler

    def match(self, path):
        """Match a request path against the route table."""
        return self.routes.get(path)

    def remove(self, path):
        """Remove a route path from the table."""
        del self.routes[path]


def route_path(path):
    """Normalize a route path before matching."""
    return "/" + path.strip("/")
'''
ROUTER_TESTS = '''def test_route_path_matching():
    """Route path matching works for nested route paths."""
    assert route_path("a/b/") == "/a/b"


def test_match_route_path():
    """A route path matches its handler."""
    assert RouteTable().match("/x") is None
'''
USES = '''def build_routes(entries):
    """Build a RouteTable from entries: RouteTable rows, RouteTable names, RouteTable."""
    return [RouteTable() for _ in entries]
'''
NET = '''def connect(host):
    """Open a socket to the host, trying again after a pause."""
    return open_socket(host)
'''
NOTE = """# Session: cache work
**ID**: 20240310-090000
**Started**: 2024-03-10T09:00:00Z

## Activity Log
### 09:30 - Update

**Key Decisions:**
- Cache eviction uses least recently used order
- Cache eviction runs when the cache holds more than a thousand entries

### 11:00 - Update

**Work Completed:**
- Wrote the socket connect helper
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ranking") / "repo"
    r = RepoBuilder(path)
    r.commit("Add the router", "2024-03-01T10:00:00+00:00",
             {"src/router.py": ROUTER, "tests/test_router.py": ROUTER_TESTS,
              "src/uses_table.py": USES}, author=ALICE)
    r.commit("Add networking", "2024-03-02T10:00:00+00:00", {"src/net.py": NET}, author=BOB)
    r.commit("Fix the flaky handshake with the upstream proxy", "2024-03-03T10:00:00+00:00",
             {"src/net.py": NET + "\n# wait longer\n"}, author=BOB)
    r.commit("Tidy imports", "2024-03-04T10:00:00+00:00",
             {"src/router.py": ROUTER + "\n"}, author=ALICE)
    r.commit("Tidy imports", "2024-03-05T10:00:00+00:00",
             {"src/net.py": NET + "\n# wait longer\n\n"}, author=ALICE)
    r.commit("Session notes", "2024-03-10T12:00:00+00:00",
             {"layer/sessions/20240310-090000.md": NOTE}, author=ALICE)
    update(GitRepo.discover(path), path / ".kenning" / "kenning.db", embed=False)
    return path


@pytest.fixture(scope="module")
def searcher(repo: Path) -> Searcher:
    return Searcher(database.connect(repo / ".kenning" / "kenning.db", write=False))


def ask(searcher: Searcher, query: str, **kw: object) -> Answer:
    return searcher.search(query, mode="lexical", **kw)  # type: ignore[arg-type]


def paths(answer: Answer) -> list[str | None]:
    return [r.path for r in answer.results if r.kind == "code"]


def test_one_slot_per_file_at_its_best_place_unless_per_file(searcher: Searcher) -> None:
    answer = ask(searcher, "route path handler")
    found = paths(answer)
    assert found.count("src/router.py") == 1  # several matching methods, one slot
    top = answer.results[0]
    assert top.path == "src/router.py" and top.start_line and top.end_line
    assert top.start_line <= top.end_line and top.source == f"src/router.py:{top.start_line}"
    assert top.also  # the file's other matching documents stay in the answer
    two = ask(searcher, "route path handler", per_file=2)
    slots = [r for r in two.results if r.path == "src/router.py"]
    assert len(slots) == 2 and slots[0].score > slots[1].score
    assert slots[0].start_line != slots[1].start_line
    assert any("span 2 of src/router.py" in s for s in slots[1].steps)


def test_tests_come_after_source_unless_the_question_asks_for_them(searcher: Searcher) -> None:
    answer = ask(searcher, "route path matching")
    found = paths(answer)
    assert found.index("src/router.py") < found.index("tests/test_router.py")
    test_hit = next(r for r in answer.results if r.path == "tests/test_router.py")
    assert any("test path, after source" in s for s in test_hit.steps)
    asked = ask(searcher, "tests of route path matching")
    test_hit = next(r for r in asked.results if r.path == "tests/test_router.py")
    assert not any("after source" in s for s in test_hit.steps)
    assert paths(asked)[0] == "tests/test_router.py"


def test_prose_files_come_after_source_unless_the_question_asks_for_docs() -> None:
    for prose in ("README.md", "CHANGES.rst", "docs/guide/routing.rst", "CHANGES", "notes.txt"):
        assert rank.penalty(prose, frozenset())[1] == ["docs"], prose
        asked = intent.asked_categories("where is routing documented in the readme")
        assert rank.penalty(prose, asked) == (1.0, []), prose
    assert rank.penalty("src/router.py", frozenset()) == (1.0, [])


def test_a_symbol_query_puts_its_definition_first(searcher: Searcher) -> None:
    answer = ask(searcher, "RouteTable")
    top = answer.results[0]
    assert (top.path, top.symbol) == ("src/router.py", "RouteTable")
    assert any("defines 'RouteTable'" in s for s in top.steps)
    assert "src/uses_table.py" in paths(answer)[1:]  # it only mentions the name


def test_a_definition_the_arms_missed_is_found_by_its_name(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    from kenning.scry import search

    def nothing(self: Searcher, *args: object) -> dict[str, dict[str, list[object]]]:
        return {"code": {"lexical": []}, "history": {"lexical": []}}

    monkeypatch.setattr(search.Searcher, "_candidates", nothing)  # the arms find nothing
    top = ask(searcher, "RouteTable", limit=1).results[0]
    assert (top.path, top.symbol) == ("src/router.py", "RouteTable")
    assert any("found by its name" in s for s in top.steps)


def test_a_commit_that_matches_raises_the_file_it_changed_and_says_so(
        searcher: Searcher) -> None:
    answer = ask(searcher, "flaky handshake upstream proxy")
    top = answer.results[0]
    assert top.kind == "code" and top.path == "src/net.py"  # its code never says so
    assert top.evidence[0]["title"] == "Fix the flaky handshake with the upstream proxy"
    assert top.reason() == (f"via: commit {top.evidence[0]['source'][:7]} "
                            "'Fix the flaky handshake with the upstream proxy'")
    assert any("history evidence" in s for s in top.steps)
    # a hidden commit (eval's exclude_sources) is no evidence either
    sha = top.evidence[0]["source"]
    hidden = ask(searcher, "flaky handshake upstream proxy",
                 filters=Filters(exclude_sources=(sha,)))
    assert all(e["source"] != sha for r in hidden.results for e in r.evidence)
    assert all(r.source != sha for r in hidden.results)


def test_why_questions_put_history_first_how_questions_code(searcher: Searcher) -> None:
    why = ask(searcher, "why did we fix the flaky handshake")
    assert why.intent == "history" and why.results[0].kind == "commit"
    how = ask(searcher, "how does the flaky handshake work")
    assert how.intent == "code" and how.results[0].kind == "code"
    commits = ask(searcher, "flaky handshake", filters=Filters(types=("commit",)))
    assert {r.kind for r in commits.results} == {"commit"}


def test_a_change_told_like_a_commit_puts_history_first() -> None:
    for told in ("Fix the flaky handshake", "added retry to uploads", "Use the new router",
                 "docs: explain routing", "fix(net): handshake", "Updated the changelog",
                 "fixing process_response", "Updating the docs", "Simplifying imports"):
        assert intent.intent(told) == "history", told
    for asked in ("how routes are grouped", "Router", "user model", "update_wrapper",
                  "response object", "removal of sessions", "fixture loading"):
        assert intent.intent(asked) == "code", asked


def test_an_open_sentence_goes_history_first_when_both_arms_find_history() -> None:
    for told in ("release version 2.0.2", "Started working on config support",
                 "require Werkzeug 2.2", "Beefed up the tutorial"):
        assert intent.is_open(told), told
    for settled in ("how routes are grouped", "where is the cache", "Router", "response",
                    "update_wrapper", "Fix the flaky handshake", "why is it slow"):
        assert not intent.is_open(settled), settled
    history = {"history": [9.0, 8.0, 7.0, 6.0, 5.0], "code": [4.0, 3.0]}
    close = {"history": [1.4, 1.2], "code": [0.8]}
    assert intent.neighbours_say_history(history, close)
    # one code document among the five best word matches: the words do not agree
    assert not intent.neighbours_say_history({**history, "code": [5.5]}, close)
    # fewer than five history matches say nothing
    assert not intent.neighbours_say_history({"history": [9.0], "code": []}, close)
    # the best history text must be far closer in meaning than the best code, not just closer
    assert not intent.neighbours_say_history(history, {"history": [1.2], "code": [0.8]})
    assert intent.neighbours_say_history(history, {"history": [0.9], "code": []})


def test_near_identical_commits_share_one_slot(searcher: Searcher) -> None:
    answer = ask(searcher, "tidy imports", filters=Filters(types=("commit",)))
    tidy = [r for r in answer.results if r.title == "Tidy imports"]
    assert len(tidy) == 1 and [g["title"] for g in tidy[0].grouped] == ["Tidy imports"]


def test_items_of_one_session_block_share_one_slot(searcher: Searcher) -> None:
    answer = ask(searcher, "cache eviction", filters=Filters(types=("session",)))
    assert len(answer.results) == 1
    assert answer.results[0].event_type == "session.decision"
    assert len(answer.results[0].grouped) == 1  # the block's other decision


def test_who_knows_answers_with_the_experts_of_the_answering_files(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[list[tuple[str, float]]] = []

    def experts(conn: object, files: list[tuple[str, float]],
                limit: int = 10) -> list[people.Person]:
        asked.append(list(files))
        return [people.Person("Alice Example", "alice@example.com", 1.0, [files[0][0]])]

    monkeypatch.setattr(people, "experts_for", experts)
    answer = ask(searcher, "who knows the route table")
    assert answer.intent == "people"
    assert [p.name for p in answer.people] == ["Alice Example"]
    assert asked[0][0][0] == "src/router.py"  # the files that answer the topic, best first
    weights = [w for _, w in asked[0]]
    assert weights == sorted(weights, reverse=True)


def test_the_cli_explains_renders_evidence_and_keeps_locations_whole(
        kenning: Runner, repo: Path) -> None:
    proc = kenning("scry", "flaky handshake upstream proxy", "--mode", "lexical", "--json",
                   "--explain", cwd=repo)
    answer = json.loads(proc.stdout)
    top = answer["results"][0]
    assert (top["path"], top["kind"]) == ("src/net.py", "code")
    assert top["start_line"] == 1 and top["end_line"] >= 1
    assert top["explain"]["arms"] == {}  # no arm found its code: the commit brought it
    assert any("history evidence" in line for line in top["explain"]["why"])
    route = json.loads(kenning("scry", "route path matching", "--mode", "lexical", "--json",
                               "--explain", cwd=repo).stdout)["results"]
    assert route[0]["explain"]["arms"]["lexical"]["rank"] >= 1
    assert any("after source" in line for r in route for line in r["explain"]["why"])
    table = kenning("scry", "flaky handshake upstream proxy", "--mode", "lexical",
                    cwd=repo, env={"COLUMNS": "40"}).stdout
    assert "src/net.py:1" in table.split()  # never split, even at 40 columns
    assert "via: commit" in table
    per_file = json.loads(kenning("scry", "route path handler", "--mode", "lexical",
                                  "--per-file", "2", "--json", cwd=repo).stdout)
    assert [r["path"] for r in per_file["results"]].count("src/router.py") == 2
    bad = kenning("scry", "x", "--per-file", "0", cwd=repo, check=False)
    assert bad.returncode == 2 and "--per-file must be between 1" in bad.stderr


def _doc(doc_id: int, path: str, arms: dict[str, tuple[int, float]], fused: float,
         symbol: str | None = None) -> rank.CodeDoc:
    doc = rank.CodeDoc(doc_id, f"e{doc_id}", path, 1, 5, symbol, symbol or path)
    doc.arms, doc.fused = arms, fused
    return doc


def test_an_identifier_that_is_a_file_name_names_that_file() -> None:
    docs = {1: _doc(1, "src/pool.py", {"lexical": (2, 9.0), "semantic": (1, 0.8)}, 0.0161),
            2: _doc(2, "bench/bench_code.py", {"lexical": (1, 20.0)}, 0.0082),
            3: _doc(3, "src/code.py", {"lexical": (3, 8.0)}, 0.0079)}
    text = "bench_code: stop when any file fails extraction"
    query = rank.Query(["bench_code", "stop", "file", "fails", "extraction"],
                       intent.embedded_symbols(text), symbol_query=False,
                       asked=intent.asked_categories(text))
    rank.definition_boosts(docs, query, best=0.0161)
    slots = rank.rank(docs, query, best=0.0161)
    assert slots[0].doc.path == "bench/bench_code.py"
    assert any("its file is named 'bench_code'" in s for s in slots[0].steps)
    assert docs[3].definition == 0.0  # a mere part of the name is not the name

