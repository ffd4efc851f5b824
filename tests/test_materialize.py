"""The materialize engine: when it rebuilds, catches up, drops, and that it is atomic."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw
import pytest

from fixtures.builder import RepoBuilder
from kenning.eventlog import database
from kenning.materialize import registry
from kenning.materialize.base import StoredEvent
from kenning.materialize.engine import freshness, materialize
from kenning.materialize.fts import FtsMaterializer
from kenning.params import Params, param
from kenning.recipes import Recipe, default_recipe
from kenning.repository.gitrepo import GitRepo
from tests.conftest import update


@dataclass(frozen=True)
class DummyParams(Params):
    threshold: int = param(1, "a parameter the tests change", minimum=0)


class Dummy:
    """A test materializer whose behaviour the tests switch."""

    name = "dummy"
    version = 1
    params_type = DummyParams
    consumes = ("git.commit",)
    incremental = True
    index_after_rebuild = False
    fold_removals = True
    fail_on_add = False
    calls: list[str] = []

    def tables(self) -> tuple[str, ...]:
        return ("dummy",)

    def create(self, conn: apsw.Connection, params: Params) -> None:
        Dummy.calls.append("create")
        conn.execute("CREATE TABLE dummy(event_id TEXT PRIMARY KEY, subject TEXT)")
        conn.execute("CREATE INDEX dummy_subject ON dummy(subject)")

    def add(self, conn: apsw.Connection, events: Sequence[StoredEvent], params: Params) -> None:
        indexed = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'dummy_subject'")
        Dummy.calls.append(f"add {len(events)}" + ("" if indexed.fetchone()[0] else " unindexed"))
        conn.executemany("INSERT INTO dummy VALUES (?, ?)",
                         [(e.event_id, e.data["subject"]) for e in events])
        if Dummy.fail_on_add:
            raise RuntimeError("boom")

    def remove(self, conn: apsw.Connection, events: Sequence[StoredEvent],
               params: Params) -> bool:
        Dummy.calls.append(f"remove {len(events)}")
        if not Dummy.fold_removals:
            return False
        conn.executemany("DELETE FROM dummy WHERE event_id = ?", [(e.event_id,) for e in events])
        return True


def test_recipe(**overrides: dict[str, Any]) -> Recipe:
    """The default recipe without embeddings (no model in engine tests), plus overrides."""
    values = copy.deepcopy(default_recipe().values)
    values["materialize"]["embeddings"]["enabled"] = False
    for name, table in overrides.items():
        values["materialize"].setdefault(name, {}).update(table)
    return Recipe.from_values("<test recipe>", values)


test_recipe.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def dummy(monkeypatch: pytest.MonkeyPatch) -> type[Dummy]:
    monkeypatch.setitem(registry.MATERIALIZERS, "dummy", "tests.test_materialize:Dummy")
    monkeypatch.setattr(Dummy, "calls", [])
    monkeypatch.setattr(Dummy, "fold_removals", True)
    monkeypatch.setattr(Dummy, "fail_on_add", False)
    monkeypatch.setattr(Dummy, "index_after_rebuild", False)
    return Dummy


def linear_repo(path: Path, n: int = 3) -> RepoBuilder:
    r = RepoBuilder(path)
    for i in range(n):
        r.commit(f"Commit {i}", f"2024-01-{i + 1:02d}T10:00:00+00:00", {f"f{i}.txt": f"{i}\n"})
    return r


def states(db: Path, recipe: Recipe) -> dict[str, tuple[str, str]]:
    conn = database.connect(db, write=False)
    try:
        return {f.name: (f.state, f.reason) for f in freshness(conn, recipe)}
    finally:
        conn.close()


def actions(results: list[Any]) -> dict[str, str]:
    return {r.name: r.action for r in results}


def test_first_run_builds_then_catches_up(tmp_path: Path, dummy: type[Dummy]) -> None:
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    recipe = test_recipe()
    first = update(GitRepo.discover(r.path), db, recipe=recipe)
    assert {x.name: x.reason for x in first.materialized}["dummy"] == "never built"
    assert dummy.calls == ["create", "add 3"]
    assert all(s in ("fresh", "disabled") for s, _ in states(db, recipe).values())
    r.commit("Commit 3", "2024-01-10T10:00:00+00:00", {"x.txt": "x\n"})
    update(GitRepo.discover(r.path), db, recipe=recipe, run_materializers=False)
    assert states(db, recipe)["dummy"] == ("stale", "1 change behind the eventlog")
    second = materialize(db, recipe)
    assert actions(second)["dummy"] == "caught up"
    assert dummy.calls[-1] == "add 1"
    assert materialize(db, recipe)[-1].action == "fresh"
    conn = database.connect(db, write=False)
    # the journal keeps only its newest row once everything has folded it
    assert conn.execute("SELECT count(*) FROM eventlog_changes").fetchone()[0] == 1


def test_indexes_come_after_a_rebuilds_rows_when_the_materializer_allows(
        tmp_path: Path, dummy: type[Dummy]) -> None:
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    dummy.index_after_rebuild = True
    update(GitRepo.discover(r.path), db, recipe=test_recipe())
    assert dummy.calls == ["create", "add 3 unindexed"]  # built without its index ...
    conn = database.connect(db, write=False)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'dummy_subject'").fetchone()
    assert sql == "CREATE INDEX dummy_subject ON dummy(subject)"  # ... which is back after
    r.commit("Commit 3", "2024-01-10T10:00:00+00:00", {"x.txt": "x\n"})
    update(GitRepo.discover(r.path), db, recipe=test_recipe())
    assert dummy.calls[-1] == "add 1"  # catching up keeps the index


def test_version_change_forces_rebuild(tmp_path: Path, dummy: type[Dummy],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    recipe = test_recipe()
    update(GitRepo.discover(r.path), db, recipe=recipe)
    monkeypatch.setattr(FtsMaterializer, "version", 99)
    assert states(db, recipe)["fts"] == ("stale", "version changed (4 -> 99)")
    assert states(db, recipe)["views"] == ("fresh", "")
    results = {x.name: x for x in materialize(db, recipe)}
    assert results["fts"].action == "rebuilt" and results["fts"].added == 6  # 3 commits,
    # and the 3 .txt files they add (documentation: a chunk each)
    assert results["views"].action == "fresh"


def test_param_change_rebuilds_exactly_that_materializer(tmp_path: Path,
                                                         dummy: type[Dummy]) -> None:
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    update(GitRepo.discover(r.path), db, recipe=test_recipe(dummy={"threshold": 1}))
    changed = test_recipe(dummy={"threshold": 2})
    assert states(db, changed)["dummy"] == ("stale", "recipe parameters changed")
    assert {n for n, (s, _) in states(db, changed).items() if s == "stale"} == {"dummy"}
    results = actions(materialize(db, changed))
    assert results["dummy"] == "rebuilt"
    assert {n for n, a in results.items() if a != "fresh"} == {"dummy"}


def test_a_removal_that_cannot_fold_forces_rebuild(tmp_path: Path, dummy: type[Dummy]) -> None:
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    recipe = test_recipe()
    update(GitRepo.discover(r.path), db, recipe=recipe)
    r.git("reset", "-q", "--hard", "HEAD~1")  # a force-push: the last commit is retracted
    r.commit("Commit 2, rewritten", "2024-01-05T10:00:00+00:00", {"y.txt": "y\n"})
    dummy.fold_removals = False
    results = {x.name: x for x in update(GitRepo.discover(r.path), db, recipe=recipe).materialized}
    assert results["dummy"].action == "rebuilt"
    assert results["dummy"].reason == "a removal it cannot fold"
    assert results["views"].action == "caught up"
    assert (results["views"].added, results["views"].removed) == (1, 1)
    conn = database.connect(db, write=False)
    assert sorted(r[0] for r in conn.execute("SELECT subject FROM dummy")) == [
        "Commit 0", "Commit 1", "Commit 2, rewritten"]


def test_batch_materializer_rebuilds_only_when_its_inputs_change(
        tmp_path: Path, dummy: type[Dummy], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Dummy, "incremental", False)
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    recipe = test_recipe()
    update(GitRepo.discover(r.path), db, recipe=recipe)
    r.tag("v1", "2024-01-04T10:00:00+00:00")  # a git.tag event: not consumed
    assert actions(update(GitRepo.discover(r.path), db, recipe=recipe).materialized)[
        "dummy"] == "fresh"
    r.commit("Commit 3", "2024-01-10T10:00:00+00:00", {"x.txt": "x\n"})
    result = {x.name: x for x in update(GitRepo.discover(r.path), db, recipe=recipe).materialized}
    assert result["dummy"].action == "rebuilt" and result["dummy"].added == 4


def test_full_scrape_forces_rebuild(tmp_path: Path, dummy: type[Dummy]) -> None:
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    recipe = test_recipe()
    update(GitRepo.discover(r.path), db, recipe=recipe)
    update(GitRepo.discover(r.path), db, recipe=recipe, full=True, run_materializers=False)
    assert states(db, recipe)["fts"] == (
        "stale", "the eventlog was rebuilt from nothing (--full or a new --until)")
    assert set(actions(materialize(db, recipe)).values()) == {"rebuilt"}


def test_a_failing_materializer_changes_nothing(tmp_path: Path, dummy: type[Dummy]) -> None:
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    recipe = test_recipe()
    update(GitRepo.discover(r.path), db, recipe=recipe)
    r.commit("Commit 3", "2024-01-10T10:00:00+00:00", {"x.txt": "x\n"})
    update(GitRepo.discover(r.path), db, recipe=recipe, run_materializers=False)

    def snapshot() -> Any:
        conn = database.connect(db, write=False)
        try:
            return [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                    for t in ("materializer_state", "commits", "documents", "dummy",
                              "eventlog_changes")]
        finally:
            conn.close()

    before = snapshot()
    dummy.fail_on_add = True
    with pytest.raises(RuntimeError, match="boom"):
        materialize(db, recipe)
    assert snapshot() == before
    dummy.fail_on_add = False
    after = actions(materialize(db, recipe))
    assert {n: after[n] for n in ("views", "fts", "dummy")} == {
        "views": "caught up", "fts": "caught up", "dummy": "caught up"}


def test_disabled_materializer_is_dropped_and_reported(tmp_path: Path,
                                                       dummy: type[Dummy]) -> None:
    r = linear_repo(tmp_path / "repo")
    db = tmp_path / "k.db"
    update(GitRepo.discover(r.path), db, recipe=test_recipe())
    off = test_recipe(dummy={"enabled": False})
    assert states(db, off)["dummy"] == ("disabled", "disabled in the recipe")
    results = {x.name: x for x in materialize(db, off)}
    assert results["dummy"].action == "dropped"
    conn = database.connect(db, write=False)
    gone = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'dummy'").fetchone()
    assert gone == (0,)
    with pytest.raises(Exception, match="disabled in the recipe"):
        materialize(db, off, ["dummy"])


def test_unknown_materializer_is_a_clear_error(history_repo: Path, kenning) -> None:
    kenning("scrape", "git", cwd=history_repo)
    proc = kenning("materialize", "nope", cwd=history_repo, check=False)
    assert proc.returncode == 2 and "unknown materializer 'nope'" in proc.stderr


def test_status_shows_everything_fresh_after_scrape(history_repo: Path, kenning) -> None:
    kenning("scrape", cwd=history_repo)
    info = json.loads(kenning("status", "--json", cwd=history_repo).stdout)
    assert info["stale"] == []
    assert {"views", "fts"} <= set(info["materializers"])
    assert all(m["state"] in ("fresh", "disabled") for m in info["materializers"].values())
    assert "everything is up to date" in kenning("status", cwd=history_repo).stdout
    # a scrape without materializing leaves them stale, with the reason
    (history_repo / "new.txt").write_text("new\n")
    r = RepoBuilder.__new__(RepoBuilder)
    r.path = history_repo
    r.commit("Another commit", "2024-03-01T10:00:00+00:00")
    kenning("scrape", "--no-materialize", cwd=history_repo)
    info = json.loads(kenning("status", "--json", cwd=history_repo).stdout)
    assert info["materializers"]["views"] == {"state": "stale",
                                              "reason": "1 change behind the eventlog"}
    # the commit, and the chunk of the .txt file it adds
    assert any(line.startswith("fts: 2 changes behind") for line in info["stale"])
    out = kenning("materialize", "--json", cwd=history_repo).stdout
    assert {m["name"]: m["action"] for m in json.loads(out)["materializers"]}["fts"] == "caught up"
    assert json.loads(kenning("status", "--json", cwd=history_repo).stdout)["stale"] == []
    rebuilt = kenning("materialize", "fts", "--rebuild", cwd=history_repo).stdout
    assert rebuilt.startswith("fts") and "rebuilt (--rebuild)" in rebuilt


def test_help_has_examples(kenning, tmp_path: Path) -> None:
    for args in (["materialize"], ["recipe", "show"], ["recipe", "check"], ["scrape"]):
        out = kenning(*args, "--help", cwd=tmp_path).stdout
        assert "Example" in out, args
    assert "--no-materialize" in kenning("scrape", "--help", cwd=tmp_path).stdout


def test_unchanged_parameters_keep_the_hash_older_databases_stored() -> None:
    """Parameters became dataclasses; a database built before is not rebuilt for
    nothing: the hash is over the same JSON the recipe table gave (but for co_changes'
    min_degree, now a number: 30 became 30.0, one rebuild of co_changes)."""
    import hashlib

    from kenning.eventlog.events import canonical_json
    from kenning.materialize.engine import params_hash

    def stored(table: dict[str, Any]) -> str:
        return hashlib.sha256(canonical_json(table).encode()).hexdigest()[:16]

    recipe = default_recipe()
    # expertise gained its volume weight and a longer half-life with version 2: rebuilt anyway
    assert params_hash(recipe.materializer("expertise")[1]) == stored(
        {"half_life_days": 365.0, "volume_weight": 1.0})
    assert params_hash(recipe.materializer("signals")[1]) == stored(
        {"half_life_days": 30.0, "windows": [7, 30, 90]})
    for name in ("views", "fts"):
        assert params_hash(recipe.materializer(name)[1]) == stored({}), name
    # embeddings gained its model, then the default became static-rerank: one rebuild
    # (static vectors, seconds), whose re-ranking vectors the cache has from minilm's
    assert params_hash(recipe.materializer("embeddings")[1]) == stored(
        {"model": "static-rerank"})
