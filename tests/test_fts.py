"""The fts materializer: one index across kinds, split identifiers, safe queries."""

from __future__ import annotations

import json

import apsw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.builder import BOB, RepoBuilder
from kenning.eventlog import database
from kenning.materialize.fts import mentioned_paths
from kenning.materialize.tokens import split_identifier
from kenning.repository.gitrepo import GitRepo
from kenning.scry.filters import Filters
from kenning.scry.lexical import fts_query
from kenning.scry.lexical import search as lexical_search
from tests.conftest import update

SESSION = """# Session: entity work
**ID**: 20240305-091500
**Started**: 2024-03-05T09:15:00Z

## Activity Log
### 09:40 - Update

**Key Decisions:**
- Keep spawn logic in `src/world.py`, not in the ECS core
- Nothing about files here
"""


@pytest.fixture(scope="module")
def search_db(tmp_path_factory: pytest.TempPathFactory) -> apsw.Connection:
    repo = tmp_path_factory.mktemp("fts") / "repo"
    r = RepoBuilder(repo)
    r.commit("Add SpawnEntity to the world", "2024-03-01T10:00:00+00:00",
             {"src/world.py": "class SpawnEntity:\n    pass\n"})
    r.commit("Fix spawn_entity when the world is empty\n\nThe café case.",
             "2024-03-02T10:00:00+00:00", {"src/world.py": "def spawn_entity():\n    pass\n"},
             author=BOB)
    r.commit("Unrelated docs", "2024-03-03T10:00:00+00:00", {"docs/readme.md": "hello\n"})
    r.commit("Session notes", "2024-03-06T10:00:00+00:00",
             {"layer/sessions/20240305-091500.md": SESSION})
    db = repo / ".kenning" / "kenning.db"
    update(GitRepo.discover(repo), db)
    return database.connect(db, write=False)


def search(conn: apsw.Connection, query: str, limit: int = 20,
           filters: Filters | None = None) -> list[tuple[int, float]]:
    """The lexical arm of scry: (doc_id, -bm25), best first."""
    return lexical_search(conn, query, filters or Filters(), limit)


def subjects(conn: apsw.Connection, hits: list[tuple[int, float]]) -> list[str]:
    return [conn.execute("SELECT title FROM documents WHERE doc_id = ?", (doc,)).fetchone()[0]
            for doc, _ in hits]


def test_split_identifiers() -> None:
    assert split_identifier("SpawnEntity") == "spawn entity"
    assert split_identifier("spawn_entity") == "spawn entity"
    assert split_identifier("HTTPServerError") == "http server error"
    assert split_identifier("parse2D") == "parse 2 d"
    assert split_identifier("plain") == "plain"


def test_spawn_entity_finds_both_spellings(search_db: apsw.Connection) -> None:
    for query in ("spawn entity", "spawn_entity", "SpawnEntity"):
        found = subjects(search_db, search(search_db, query, limit=10))
        assert "Add SpawnEntity to the world" in found, query
        assert "Fix spawn_entity when the world is empty" in found, query
        assert "Unrelated docs" not in found


def test_one_index_across_kinds(search_db: apsw.Connection) -> None:
    kinds = dict(search_db.execute("SELECT kind, count(*) FROM documents GROUP BY 1").fetchall())
    assert kinds["commit"] == 4
    assert kinds.get("session", 0) >= 2
    hits = search(search_db, "spawn", limit=10)
    found_kinds = {search_db.execute("SELECT kind FROM documents WHERE doc_id = ?",
                                     (doc,)).fetchone()[0] for doc, _ in hits}
    assert {"commit", "session"} <= found_kinds
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)  # best (highest -bm25) first


def test_session_item_paths_name_known_files_else_the_session(
        search_db: apsw.Connection) -> None:
    rows = dict(search_db.execute(
        "SELECT title, paths FROM documents WHERE kind = 'session'").fetchall())
    assert json.loads(rows["Keep spawn logic in `src/world.py`, not in the ECS core"]) == [
        "src/world.py"]
    assert json.loads(rows["Nothing about files here"]) == ["layer/sessions/20240305-091500.md"]


def test_commit_documents(search_db: apsw.Connection) -> None:
    row = search_db.execute(
        "SELECT source, author, paths, body, event_type FROM documents "
        "WHERE title = 'Fix spawn_entity when the world is empty'").fetchone()
    sha, author, paths, body, event_type = row
    assert len(sha) == 40 and author == BOB[0] and json.loads(paths) == ["src/world.py"]
    assert body.endswith("The café case.") and event_type == "git.commit"
    assert subjects(search_db, search(search_db, "cafe")) == [
        "Fix spawn_entity when the world is empty"]  # diacritics removed


def test_filters_apply_before_the_limit(search_db: apsw.Connection) -> None:
    def titles(**kw: object) -> list[str]:
        return subjects(search_db, search(search_db, "spawn world", limit=1,
                                          filters=Filters(**kw)))  # type: ignore[arg-type]

    assert titles(types=("session",)) == ["Keep spawn logic in `src/world.py`, not in the ECS core"]
    assert titles(author="bob") == ["Fix spawn_entity when the world is empty"]
    assert titles(until="2024-03-01") == ["Add SpawnEntity to the world"]
    assert titles(since="2024-03-02", types=("commit",)) == [
        "Fix spawn_entity when the world is empty"]
    assert titles(path="docs/*") == []
    assert titles(types=("session.decision",), path="src/*") == [
        "Keep spawn logic in `src/world.py`, not in the ECS core"]


HOSTILE = ['"foo" OR 1=1 --', "NEAR(", 'NEAR("a" "b", 3)', '"unbalanced', "'", "*", "a*",
           "-", "^start", "col:value", "title:spawn", "AND OR NOT", "(((", ")", "{a b}",
           "a + b", "; DROP TABLE documents; --", "\x00", "_", "__init__", "é", "日本語",
           "x" * 10_000, " ".join(["w"] * 5000), "", "   ", "🙂", "\\", "%_%", "NOT spawn"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(search_db: apsw.Connection, query: str) -> None:
    hits = search(search_db, query, limit=5, filters=Filters(path="[*"))
    assert isinstance(hits, list)
    search(search_db, query, limit=5)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_safe_query(search_db: apsw.Connection, query: str) -> None:
    search(search_db, query, limit=3)
    expression = fts_query(query) or ""
    assert expression.count('"') % 2 == 0


def test_mentioned_paths() -> None:
    text = "Edited `src/app.py:12`, ./docs/x.md and scrape.py; see https://example.com/a/b, or not"
    assert mentioned_paths(text) == ["docs/x.md", "scrape.py", "src/app.py"]
