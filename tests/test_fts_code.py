"""fts version 3: code documents carry their file, span and name; paths, split
identifiers and word stems are searchable."""

from __future__ import annotations

import json

import apsw
import pytest

from fixtures.builder import RepoBuilder
from kenning.eventlog import database
from kenning.materialize.tokens import index_text, path_text, query_terms, split_identifier
from kenning.repository.gitrepo import GitRepo
from kenning.scry.filters import Filters
from kenning.scry.lexical import search
from tests.conftest import update

# Nothing in response.js says "response": only its name does.
RESPONSE_JS = """\
'use strict';

var res = Object.create(http.ServerResponse.prototype);

res.status = function status(code) {
  this.statusCode = code;
  return this;
};

module.exports = res;
"""

TREE_GO = """\
package gin

// node is one vertex of a compressed radix trie of routes.
type node struct {
\tpath     string
\tchildren []*node
}

func (n *node) addRoute(path string, handlers HandlersChain) {
\tn.path = path
}
"""

ROUTER_GO = """\
package gin

// a router holds the handlers of each method
type methodTree struct {
\tmethod string
}

func longestCommonPrefix(a, b string) int {
\treturn 0
}
"""

WORLD_PY = """\
MAX_ENTITIES = 64


class SpawnEntity:
    \"\"\"Puts things into the world.\"\"\"


@system(stage='late')
def despawn_all_entities(world):
    \"\"\"Clears the routing of every entity.\"\"\"
    return world
"""


REJECTION_RS = """\
pub use crate::extract::Json;

define_rejection! {
    #[status = UNSUPPORTED_MEDIA_TYPE]
    #[body = "Expected request with `Content-Type: application/json`"]
    pub struct MissingJsonContentType;
}
"""

SCHEMAS_JS = """\
export const ZodObject = core.$constructor("ZodObject", (inst, def) => {
  inst.shape = def.shape;
  inst.keyof = () => _enum(Object.keys(inst._zod.def.shape));
  inst.catchall = (catchall) => inst.clone({ ...inst._zod.def, catchall });
  inst.passthrough = () => inst.clone({ ...inst._zod.def, catchall: unknown() });
  inst.strict = () => inst.clone({ ...inst._zod.def, catchall: never() });
});
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> apsw.Connection:
    repo = tmp_path_factory.mktemp("fts-code") / "repo"
    r = RepoBuilder(repo)
    r.commit("Start", "2024-03-01T10:00:00+00:00",
             {"lib/response.js": RESPONSE_JS, "tree.go": TREE_GO, "routergroup.go": ROUTER_GO,
              "src/game/world.py": WORLD_PY, "src/rejection.rs": REJECTION_RS,
             "packages/zod/v4/schemas.js": SCHEMAS_JS})
    r.commit("Note the routes", "2024-03-02T10:00:00+00:00", {"NOTES.md": "routes\n"})
    path = repo / ".kenning" / "kenning.db"
    update(GitRepo.discover(repo), path)
    return database.connect(path, write=False)


def code_hits(conn: apsw.Connection, query: str) -> list[tuple[str, str]]:
    """(path, title) of the code documents the lexical arm finds, best first."""
    hits = search(conn, query, Filters(types=("code",)), 20)
    return [conn.execute("SELECT path, title FROM documents WHERE doc_id = ?", (doc,)).fetchone()
            for doc, _ in hits]


def test_path_words() -> None:
    assert path_text("src/axum/routing/method_routing.rs") == \
        "method routing method routing routing axum src"
    assert path_text("lib/response.js") == "response response lib"
    assert path_text("a/b/c/d/httpServer.test.ts") == \
        "httpserver http server test httpserver http server test d c b"
    assert path_text("Makefile") == "makefile makefile"
    assert path_text(".eslintrc") == "eslintrc eslintrc"


def test_tokens_split_alike_at_both_ends() -> None:
    assert split_identifier("HTTPServerError") == "http server error"
    assert index_text("SpawnEntity", "x").endswith("spawn entity")
    assert query_terms("how does SpawnEntity work") == ["spawnentity", "spawn", "entity", "work"]


def test_a_file_is_found_by_its_name_alone(db: apsw.Connection) -> None:
    assert {p for p, _ in code_hits(db, "response")} == {"lib/response.js"}


def test_radix_tree_reaches_tree_go(db: apsw.Connection) -> None:
    assert code_hits(db, "radix tree")[0][0] == "tree.go"


def test_identifiers_in_any_case(db: apsw.Connection) -> None:
    for query in ("spawn entity", "SpawnEntity", "spawn_entity"):
        assert code_hits(db, query)[0] == ("src/game/world.py", "SpawnEntity"), query
    for query in ("despawn all entities", "despawnAllEntities"):
        assert code_hits(db, query)[0] == ("src/game/world.py", "despawn_all_entities"), query
    assert code_hits(db, "longest common prefix")[0] == ("routergroup.go", "longestCommonPrefix")


def test_stemming_routes_finds_routing(db: apsw.Connection) -> None:
    titles = [t for _, t in code_hits(db, "routes")]
    assert "despawn_all_entities" in titles  # "Clears the routing of every entity"
    assert "node.addRoute" in titles


def test_constants_are_documents(db: apsw.Connection) -> None:
    assert code_hits(db, "max entities")[0] == ("src/game/world.py", "MAX_ENTITIES")
    body = db.execute("SELECT body FROM documents WHERE symbol = 'MAX_ENTITIES'").fetchone()[0]
    assert body == "MAX_ENTITIES = 64"


def test_code_documents_carry_file_span_and_name(db: apsw.Connection) -> None:
    rows = db.execute(
        "SELECT event_type, title, symbol, path, start_line, end_line, source, paths, path_text "
        "FROM documents WHERE path = 'src/game/world.py' AND symbol IS NOT NULL "
        "ORDER BY start_line").fetchall()
    assert [r[:7] for r in rows] == [
        ("code.constant", "MAX_ENTITIES", "MAX_ENTITIES", "src/game/world.py", 1, 1,
         "src/game/world.py:1"),
        ("code.type", "SpawnEntity", "SpawnEntity", "src/game/world.py", 4, 5,
         "src/game/world.py:4"),
        ("code.function", "despawn_all_entities", "despawn_all_entities", "src/game/world.py",
         9, 11, "src/game/world.py:9")]
    assert {r[7] for r in rows} == {json.dumps(["src/game/world.py"])}
    assert {r[8] for r in rows} == {"world world game src"}
    method = db.execute("SELECT title, symbol FROM documents WHERE path = 'tree.go' "
                        "AND event_type = 'code.function'").fetchone()
    assert method == ("node.addRoute", "addRoute")


def test_commits_and_sessions_have_no_code_columns(db: apsw.Connection) -> None:
    rows = db.execute("SELECT path, start_line, end_line, symbol, path_text FROM documents "
                      "WHERE kind != 'code'").fetchall()
    assert rows and set(rows) == {(None, None, None, None, "")}


def test_code_outside_definitions_is_found(db: apsw.Connection) -> None:
    assert code_hits(db, "missing json content type")[0] == ("src/rejection.rs",
                                                               "src/rejection.rs")
    assert code_hits(db, "passthrough catchall")[0][0] == "packages/zod/v4/schemas.js"
    row = db.execute("SELECT kind, event_type, title, source, paths, path, start_line, end_line,"
                     " symbol, path_text FROM documents WHERE event_type = 'code.chunk' "
                     "AND path = 'src/rejection.rs'").fetchone()
    assert row == ("code", "code.chunk", "src/rejection.rs", "src/rejection.rs:1",
                   '["src/rejection.rs"]', "src/rejection.rs", 1, 7, None,
                   "rejection rejection src")


def test_decorators_are_searchable(db: apsw.Connection) -> None:
    assert code_hits(db, "spawn entity")[0][1] == "SpawnEntity"
    body = db.execute("SELECT body FROM documents WHERE symbol = 'despawn_all_entities'"
                      ).fetchone()[0]
    assert body.split("\n")[:2] == ["despawn_all_entities", "@system(stage='late')"]


def test_chunks_are_embedded_with_their_file() -> None:
    from kenning.eventlog.reader import StoredEvent
    from kenning.materialize.embeddings import embedding_text

    code = "\n".join(f"import m{i}" for i in range(20))
    chunk = StoredEvent("e1", "code.chunk", "2024-01-01T00:00:00Z", "lib/response.js::chunk:1",
                        "lib/response.js", {"start_line": 1, "end_line": 20, "text": code,
                                            "language": "javascript"})
    assert embedding_text(chunk, brief_code=False) == "lib/response.js\n" + code
    brief = embedding_text(chunk, brief_code=True)
    assert brief is not None and brief.split("\n") == ["lib/response.js", *code.split("\n")[:8]]
    constant = StoredEvent("e2", "code.constant", "2024-01-01T00:00:00Z", "a.py::LIMIT", "a.py",
                           {"name": "LIMIT", "qualified_name": "LIMIT", "value": "64",
                            "start_line": 3, "end_line": 3})
    assert embedding_text(constant, brief_code=False) == "LIMIT = 64"
