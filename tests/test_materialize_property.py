"""I3 (materialized = rebuilt) as a property: random histories, random scrape sequences.

Each example builds a small repository step by step (mainline commits, a side
branch of back-dated commits merged late, session notes added, edited and
deleted, history rewritten by a force-push) and scrapes it at random moments,
sometimes `--until` a date. After every scrape the materializers have caught up
incrementally; a copy of the database then rebuilds every one of them from the
eventlog, and each materializer's tables must hold exactly the same rows.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import apsw
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fixtures.builder import ALICE, BOB, CAROL, RepoBuilder
from kenning.eventlog import database
from kenning.materialize.engine import materialize
from kenning.materialize.registry import MATERIALIZERS, load
from kenning.repository.gitrepo import GitRepo
from kenning.scry.filters import Filters
from kenning.scry.lexical import search
from tests.conftest import update
from tests.test_materialize import test_recipe

START = dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.UTC)
PATHS = ["src/world.py", "src/spawn.py", "docs/guide.md", "lib/util.py", "README.md"]
WORDS = ["SpawnEntity", "spawn_entity", "world", "parser", "fix", "cache", "docs", "café"]
AUTHORS = [ALICE, BOB, CAROL]


def iso(t: dt.datetime) -> str:
    return t.isoformat()


def python_source(words: list[str]) -> str:
    names = [w.lower().replace("é", "e") for w in words]
    body = "".join(f"def {n}_{i}(x):\n    '''{n} doc'''\n    return x\n\n"
                   for i, n in enumerate(names))
    return body + "class SpawnEntity:\n    pass\n"


def session_note(day: dt.datetime, mention: str, text: str) -> str:
    stamp = day.strftime("%Y%m%d-%H%M%S")
    return (f"# Session: work on {text}\n**ID**: {stamp}\n"
            f"**Started**: {day.strftime('%Y-%m-%dT%H:%M:%SZ')}\n\n## Activity Log\n"
            f"### {day.strftime('%H:%M')} - Update\n\n**Key Decisions:**\n"
            f"- Keep {text} in `{mention}`\n- {text} without files\n\n"
            f"**Patterns Observed:**\n- {text} again\n")


class History:
    """A repository under random construction."""

    def __init__(self, path: Path) -> None:
        self.r = RepoBuilder(path)
        self.now = START
        self.mainline: list[tuple[str, dt.datetime]] = []
        self.side: str | None = None
        self.side_time = START
        self.branches = 0
        self.sessions: list[str] = []
        self.commit_main("Initial commit", {"README.md": "# demo\n"}, ALICE)

    def commit_main(self, message: str, files: dict[str, str], author: tuple[str, str],
                    delete: tuple[str, ...] = ()) -> None:
        self.now += dt.timedelta(days=1)
        sha = self.r.commit(message, iso(self.now), files, delete=delete, author=author,
                            allow_empty=True)
        self.mainline.append((sha, self.now))

    def step(self, data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(["commit", "commit", "side", "merge", "session",
                                          "rewrite"]))
        words = data.draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
        author = data.draw(st.sampled_from(AUTHORS))
        if kind == "commit":
            paths = data.draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3,
                                       unique=True))
            files = {p: python_source(words) if p.endswith(".py") else " ".join(words) + "\n"
                     for p in paths}
            self.commit_main(f"{' '.join(words)}\n\nTouches {paths[0]}.", files, author)
        elif kind == "side":
            if self.side is None:
                base_index = data.draw(st.integers(0, len(self.mainline) - 1))
                base, self.side_time = self.mainline[base_index]
                self.branches += 1
                self.side = f"side{self.branches}"
                self.r.checkout(base, new_branch=self.side)
            else:
                self.r.checkout(self.side)
            self.side_time += dt.timedelta(hours=1)  # back-dated against the mainline
            path = f"side/{self.side}_{len(words)}.py"
            self.r.commit(f"Side work on {' '.join(words)}", iso(self.side_time),
                          {path: python_source(words)}, author=author, allow_empty=True)
            self.r.checkout("main")
        elif kind == "merge" and self.side is not None:
            self.now += dt.timedelta(days=1)
            sha = self.r.merge(self.side, f"Merge {self.side}\n\nBrings {' '.join(words)}.",
                               iso(self.now))
            self.mainline.append((sha, self.now))
            self.side = None
        elif kind == "session":
            action = data.draw(st.sampled_from(["add", "edit", "delete"]))
            if action == "add" or not self.sessions:
                name = f"layer/sessions/{self.now.strftime('%Y%m%d-%H%M%S')}.md"
                if name not in self.sessions:
                    self.sessions.append(name)
            else:
                name = data.draw(st.sampled_from(self.sessions))
            if action == "delete" and name in self.sessions and len(self.sessions) > 1:
                self.sessions.remove(name)
                self.commit_main(f"Drop session {name}", {}, author, delete=(name,))
            else:
                mention = data.draw(st.sampled_from(PATHS + ["world.py", "missing/file.py"]))
                text = " ".join(words)
                self.commit_main(f"Session notes: {text}",
                                 {name: session_note(self.now, mention, text)}, author)
        elif kind == "rewrite" and len(self.mainline) > 2:
            self.r.git("reset", "-q", "--hard", "HEAD~1")
            self.mainline.pop()
            self.sessions = [s for s in self.sessions if (self.r.path / s).exists()]
            self.commit_main(f"Rewritten: {' '.join(words)}", {"lib/util.py": " ".join(words)},
                             author)


def snapshot(conn: apsw.Connection, names: list[str]) -> dict[str, Any]:
    """Every table of every materializer, rows in a content order (doc_id left out)."""
    kinds = {n: sql or "" for n, sql in conn.execute("SELECT name, sql FROM sqlite_master")}
    result: dict[str, Any] = {}
    for name in names:
        for table in load(name).tables():
            sql = kinds.get(table)
            if sql is None or sql.startswith("CREATE VIEW"):
                continue
            if sql.startswith("CREATE VIRTUAL TABLE"):
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
                continue
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
                       if r[1] != "doc_id"]
            rows = conn.execute(f'SELECT {", ".join(columns)} FROM "{table}"').fetchall()
            result[f"{name}.{table}"] = sorted((tuple(_norm(v) for v in row) for row in rows),
                                               key=repr)
    if "fts" in names:
        hits = search(conn, "spawn entity world café docs", Filters(), 50)
        result["fts.search"] = [  # doc_id is a local handle: compare event ids
            (conn.execute("SELECT event_id FROM documents WHERE doc_id = ?", (doc,)).fetchone()[0],
             round(score, 9)) for doc, score in hits]
    return result


def _norm(value: Any) -> Any:
    # sums folded in another order may differ in the last bits of a float
    return float(f"{value:.10g}") if isinstance(value, float) else value


def check_rebuild_equals_incremental(db: Path, tmp: Path, names: list[str]) -> None:
    recipe = test_recipe()
    conn = database.connect(db, write=True)  # the FTS integrity check is a write
    copy = tmp / "rebuilt.db"
    if copy.exists():
        copy.unlink()
    conn.execute(f"VACUUM INTO '{copy}'")
    incremental = snapshot(conn, names)
    conn.close()
    results = materialize(copy, recipe, rebuild=True)
    assert {r.action for r in results} == {"rebuilt"}
    rebuilt_conn = database.connect(copy, write=True)
    rebuilt = snapshot(rebuilt_conn, names)
    rebuilt_conn.close()
    assert incremental.keys() == rebuilt.keys()
    for key in incremental:
        assert incremental[key] == rebuilt[key], f"{key} differs after incremental runs"


@pytest.mark.slow
@settings(max_examples=6, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],  # shrinking git histories takes minutes
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_incremental_materialization_equals_rebuild(
        tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    tmp = tmp_path_factory.mktemp("i3")
    history = History(tmp / "repo")
    db = tmp / "k.db"
    recipe = test_recipe()
    names = [n for n in MATERIALIZERS if recipe.materializer(n)[0]]
    scrapes = 0
    for _ in range(data.draw(st.integers(3, 9), label="steps")):
        history.step(data)
        if data.draw(st.booleans(), label="scrape now"):
            until = None
            if data.draw(st.booleans(), label="until"):
                back = data.draw(st.integers(0, len(history.mainline) - 1))
                until = history.mainline[back][1].strftime("%Y-%m-%d")
            update(GitRepo.discover(history.r.path), db, until=until, recipe=recipe)
            scrapes += 1
            check_rebuild_equals_incremental(db, tmp, names)
    update(GitRepo.discover(history.r.path), db, recipe=recipe)
    check_rebuild_equals_incremental(db, tmp, names)
    conn = database.connect(db, write=False)
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] > 0
    conn.close()
    shutil.rmtree(tmp, ignore_errors=True)
