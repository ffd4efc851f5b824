"""What a scrape makes searchable from a repository's files: every line of a source
file is in some document of the fts index."""

from __future__ import annotations

import apsw
import pytest

from fixtures.builder import RepoBuilder
from kenning.eventlog import database
from kenning.repository.gitrepo import GitRepo
from kenning.scry.filters import Filters
from kenning.scry.lexical import search
from tests.conftest import update


def long_function(lines: int, word_at: int) -> str:
    body = [f"    step_{n} = step_{n - 1} + 1" for n in range(2, lines)]
    body[word_at - 2] = "    zanzibar = step_1"
    return "\n".join(["def run(step_1):", *body, "    return step_1"]) + "\n"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> apsw.Connection:
    repo = tmp_path_factory.mktemp("code-documents") / "repo"
    r = RepoBuilder(repo)
    r.commit("Start", "2024-03-01T10:00:00+00:00", {
        "src/long.py": long_function(60, 50),
        "Source/Core/Session.swift": "open class Session {\n    let rootQueue: DispatchQueue\n}\n",
        "lib/ecto/repo.ex": "defmodule Ecto.Repo do\n  def preload(structs), do: structs\nend\n",
        "README.md": "# Zircon\n\nZircon renders templates with a sandboxed evaluator.\n",
        "docs/changes.rst": "Changes\n=======\n\nThe evaluator no longer leaks globals.\n",
        "layer/sessions/2024-03-01-plan.md":
            "# Session: plan\n\n## Key Decisions\n\n- Keep the sandboxed evaluator small\n",
    })
    path = repo / ".kenning" / "kenning.db"
    update(GitRepo.discover(repo), path)
    return database.connect(path, write=False)


def documents_with(conn: apsw.Connection, word: str) -> list[tuple[str, str, int, int]]:
    return conn.execute("SELECT event_type, path, start_line, end_line FROM documents "
                        "WHERE body LIKE ? ORDER BY start_line", (f"%{word}%",)).fetchall()


def test_line_50_of_a_60_line_function_is_in_a_document(db: apsw.Connection) -> None:
    assert documents_with(db, "zanzibar") == [("code.chunk", "src/long.py", 17, 60)]
    assert documents_with(db, "step_3 =") == [("code.function", "src/long.py", 1, 60)]


def code_hits(conn: apsw.Connection, query: str) -> list[tuple[str, str]]:
    hits = search(conn, query, Filters(types=("code",)), 20)
    return [conn.execute("SELECT path, event_type FROM documents WHERE doc_id = ?",
                         (doc,)).fetchone() for doc, _ in hits]


def test_files_without_a_grammar_are_found_by_their_words_and_names(
        db: apsw.Connection) -> None:
    assert code_hits(db, "preload structs") == [("lib/ecto/repo.ex", "code.chunk")]
    assert code_hits(db, "core") == [("Source/Core/Session.swift", "code.chunk")]  # path alone
    assert code_hits(db, "dispatch queue") == [("Source/Core/Session.swift", "code.chunk")]
    assert code_hits(db, "session") == [("Source/Core/Session.swift", "code.chunk")]


def test_documentation_is_found_and_session_notes_are_not_code(db: apsw.Connection) -> None:
    assert code_hits(db, "sandboxed evaluator")[0] == ("README.md", "code.chunk")
    assert code_hits(db, "leaks globals") == [("docs/changes.rst", "code.chunk")]
    kinds = db.execute("SELECT DISTINCT kind FROM documents WHERE body LIKE '%evaluator small%'")
    assert [k for (k,) in kinds] == ["session"]  # the note is the sessions scraper's alone
