"""Recipes: the default, key-by-key overrides, and invalid recipes that change nothing."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from kenning.errors import KenningError
from kenning.materialize.co_changes import CoChangesParams
from kenning.materialize.expertise import ExpertiseParams
from kenning.materialize.registry import MATERIALIZERS
from kenning.materialize.signals import SignalsParams
from kenning.recipes import (
    DEFAULT_SOURCE,
    RECIPE_PATH,
    default_recipe,
    load_recipe,
    read_recipe,
)
from kenning.scrapers.base import ScrapeOptions


def write_recipe(repo: Path, text: str) -> Path:
    path = repo / RECIPE_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_default_recipe_is_what_the_dataclasses_declare(tmp_path: Path) -> None:
    recipe = load_recipe(tmp_path)  # no recipe file: the declared defaults
    assert recipe.source == default_recipe().source
    assert recipe.scrape_options() == ScrapeOptions()
    assert recipe.materializer("co_changes") == (True, CoChangesParams())
    assert recipe.values["materialize"]["co_changes"] == {
        "enabled": True, "max_changeset": 30, "min_revisions": 5, "min_shared": 5,
        "min_degree": 30.0, "include_merges": False}
    assert recipe.materializer("signals")[1] == SignalsParams(windows=(7, 30, 90))
    assert recipe.values["materialize"]["embeddings"] == {"enabled": True,
                                                             "model": "static-rerank"}
    assert recipe.rrf_k == 60
    assert list(recipe.values["materialize"]) == list(MATERIALIZERS)


def test_recipe_show_documents_every_key_and_reads_back_as_the_same_recipe(
        tmp_path: Path) -> None:
    text = default_recipe().to_toml()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if " = " in line and not line.startswith("#"):
            assert lines[i - 1].startswith("# "), f"no comment above {line!r}"
    write_recipe(tmp_path, text)
    assert replace(load_recipe(tmp_path), source=DEFAULT_SOURCE) == default_recipe()


def test_a_recipe_overrides_the_default_key_by_key(tmp_path: Path) -> None:
    write_recipe(tmp_path, """
[scrape]
session_paths = ["notes", "docs/sessions"]
[scrape.code_extensions]
".pyi" = "python"
[materialize.co_changes]
min_shared = 3
[materialize.expertise]
half_life_days = 30   # an integer where a number is expected is fine
[materialize.embeddings]
enabled = false
""")
    recipe = load_recipe(tmp_path)
    assert recipe.source == str(tmp_path / RECIPE_PATH)
    enabled, params = recipe.materializer("co_changes")
    assert enabled and params == CoChangesParams(min_shared=3, max_changeset=30)
    assert recipe.materializer("expertise")[1] == ExpertiseParams(half_life_days=30.0)
    assert recipe.materializer("embeddings")[0] is False
    options = recipe.scrape_options()
    assert options.session_paths == ("notes", "docs/sessions")
    assert options.code_extensions == ((".pyi", "python"),)
    assert options.code_exclude == ScrapeOptions().code_exclude
    # a command-line --sessions wins over the recipe
    assert recipe.scrape_options(session_paths=("x",)).session_paths == ("x",)


@pytest.mark.parametrize(("text", "key", "reason"), [
    ("[scrape]\nsession_path = ['x']\n", "scrape.session_path", "unknown key"),
    ("[materialize.co_change]\nenabled = true\n", "materialize.co_change", "unknown key"),
    ("[materialize.co_changes]\nmin_shared = '5'\n", "materialize.co_changes.min_shared",
     "must be an integer, not a string"),
    ("[materialize.co_changes]\ninclude_merges = 1\n", "materialize.co_changes.include_merges",
     "must be a boolean"),
    ("[materialize.co_changes]\nmin_shared = 2.5\n", "materialize.co_changes.min_shared",
     "must be an integer"),
    ("[materialize.signals]\nwindows = [7, 'x']\n", "materialize.signals.windows",
     "must be an integer"),
    ("[materialize.signals]\nhalf_life_days = 0\n", "materialize.signals.half_life_days",
     "must be at least 0.0416667"),
    ("[materialize.signals]\nhalf_life_days = nan\n", "materialize.signals.half_life_days",
     "must be a finite number, not nan"),
    ("[materialize.expertise]\nhalf_life_days = inf\n", "materialize.expertise.half_life_days",
     "must be a finite number"),
    ("[materialize.signals]\nwindows = [0]\n", "materialize.signals.windows", "greater than 0"),
    ("[materialize.signals]\nwindows = [99999999]\n", "materialize.signals.windows",
     "at most 36500"),
    ("[materialize.co_changes]\nmin_degree = 101\n", "materialize.co_changes.min_degree",
     "at most 100"),
    ("[scrape]\ncode_max_bytes = 99999999999999999999\n", "scrape.code_max_bytes",
     "must fit in 64 bits"),
    ("[scrape.code_extensions]\n'.foo' = 'cobol'\n", 'scrape.code_extensions.".foo"',
     "unknown language 'cobol'"),
    ("[scrape.code_extensions]\n'.d.ts' = 'typescript'\n", 'scrape.code_extensions.".d.ts"',
     "no other dot"),
    ("[scrape]\nsession_paths = ['../..']\n", "scrape.session_paths",
     "'../..' leaves the repository"),
    ("[scrape]\nsession_paths = ['notes/../../x']\n", "scrape.session_paths",
     "leaves the repository"),
    ("[scrape]\nsession_paths = ['/']\n", "scrape.session_paths", "names no folder"),
    ("[scrape]\nsession_paths = 'notes'\n", "scrape.session_paths", "must be an array"),
    ("[scrape]\nworkers = 4\n", "scrape.workers", "unknown key"),  # a command-line choice
    ("[scry]\nrrf_k = 0\n", "scry.rrf_k", "greater than 0"),
    ("[scrapes]\n", "scrapes", "did you mean 'scrape'"),
    ("[materialize.views]\nmin_shared = 1\n", "materialize.views.min_shared",
     "unknown key; known: enabled"),
    ("[materialize.co_changes]\nmin_shared = -1\n", "materialize.co_changes.min_shared",
     "must not be negative"),
    ("materialize = 3\n", "materialize", "must be a table"),
    ("[scrape.code_extensions]\npyi = 'python'\n", "scrape.code_extensions.pyi", "starts with"),
    ("[materialize.fts]\nenabled = 'yes'\n", "materialize.fts.enabled", "must be a boolean"),
])
def test_an_invalid_recipe_names_file_key_and_reason(tmp_path: Path, text: str, key: str,
                                                     reason: str) -> None:
    path = write_recipe(tmp_path, text)
    with pytest.raises(KenningError) as info:
        read_recipe(path)
    message = info.value.message
    assert str(path) in message and repr(key) in message and reason in message


def test_unparseable_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_recipe(tmp_path, "[scrape\nsession_paths = 1\n")
    with pytest.raises(KenningError, match="not valid TOML.*line 1"):
        load_recipe(tmp_path)
    assert str(path) in str(pytest.raises(KenningError, read_recipe, path).value)


def test_show_prints_the_effective_recipe_as_toml_and_json(history_repo: Path, kenning) -> None:
    write_recipe(history_repo, "[materialize.co_changes]\nmin_shared = 2\n"
                               "[scrape.code_extensions]\n'.weird ext' = \"python\"\n")
    text = kenning("recipe", "show", cwd=history_repo).stdout
    shown = tomllib.loads(text)
    assert shown == load_recipe(history_repo).values
    assert shown["materialize"]["co_changes"]["min_shared"] == 2
    as_json = json.loads(kenning("recipe", "show", "--json", cwd=history_repo).stdout)
    assert as_json["recipe"] == shown
    assert as_json["source"].endswith("recipe.toml")


def test_check_accepts_a_good_recipe_and_rejects_a_bad_one(history_repo: Path, kenning) -> None:
    assert "default recipe applies" in kenning("recipe", "check", cwd=history_repo).stdout
    write_recipe(history_repo, "[materialize.signals]\nwindows = [7, 30]\n")
    assert "ok" in kenning("recipe", "check", cwd=history_repo).stdout
    write_recipe(history_repo, "[materialize.signals]\nwindow = [7]\n")
    proc = kenning("recipe", "check", cwd=history_repo, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "'materialize.signals.window'" in proc.stderr and "did you mean 'windows'" in proc.stderr


def test_an_invalid_recipe_changes_nothing(history_repo: Path, kenning) -> None:
    kenning("scrape", cwd=history_repo)
    db = history_repo / ".kenning" / "kenning.db"
    before = kenning("digest", "--json", cwd=history_repo).stdout
    status_before = json.loads(kenning("status", "--json", cwd=history_repo).stdout)
    (history_repo / "NEW.md").write_text("new\n")
    kenning_git(history_repo, "add", "NEW.md")
    kenning_git(history_repo, "commit", "-q", "-m", "A new file")
    write_recipe(history_repo, "[materialize.fts]\nenabled = 1\n")
    for args in (["scrape"], ["scrape", "--full"], ["materialize"], ["materialize", "--rebuild"]):
        proc = kenning(*args, cwd=history_repo, check=False)
        assert proc.returncode == 2, args
        assert "materialize.fts.enabled" in proc.stderr and str(RECIPE_PATH) in proc.stderr
        assert "Traceback" not in proc.stderr
    assert kenning("digest", "--json", cwd=history_repo).stdout == before
    (history_repo / RECIPE_PATH).unlink()
    status_after = json.loads(kenning("status", "--json", cwd=history_repo).stdout)
    assert status_after["materializers"] == status_before["materializers"]
    assert db.exists()


def kenning_git(repo: Path, *args: str) -> None:
    from fixtures.builder import RepoBuilder

    builder = RepoBuilder.__new__(RepoBuilder)
    builder.path = repo
    builder.git(*args, date="2024-03-01T10:00:00+00:00")


# A recipe that `kenning recipe check` accepted but a scrape rejected (or the other way
# round) is impossible by construction: both build the same dataclasses. These are the
# cases that once differed; each must be rejected by both, with the same message.
@pytest.mark.parametrize(("text", "expected"), [
    ("[materialize.signals]\nhalf_life_days = nan\n",
     "key 'materialize.signals.half_life_days': must be a finite number, not nan"),
    ("[scrape.code_extensions]\n'.foo' = 'cobol'\n",
     "key 'scrape.code_extensions.\".foo\"': unknown language 'cobol'"),
    ("[scrape]\nsession_paths = ['../..']\n",
     "key 'scrape.session_paths': '../..' leaves the repository"),
    (None, "is a directory; the recipe is a TOML file"),  # .kenning/recipe.toml/ as a folder
])
def test_recipe_check_rejects_exactly_what_a_scrape_rejects(history_repo: Path, kenning,
                                                            text: str | None,
                                                            expected: str) -> None:
    if text is None:
        (history_repo / RECIPE_PATH).mkdir(parents=True)
    else:
        write_recipe(history_repo, text)
    messages = []
    for args in (["recipe", "check"], ["scrape", "--no-embed"]):
        proc = kenning(*args, cwd=history_repo, check=False)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert str(RECIPE_PATH) in lines[0] and expected in lines[0], lines[0]
        messages.append(lines[0])
    assert messages[0] == messages[1]
    assert not (history_repo / ".kenning" / "kenning.db").exists()


@pytest.mark.parametrize("edge", ["low", "high"])
def test_every_value_the_recipe_accepts_builds(history_repo: Path, tmp_path: Path,
                                               edge: str) -> None:
    """The bounds are the materializers' own: a recipe at either end of every bound
    scrapes and materializes without an error."""
    from kenning.materialize import decay
    from kenning.repository.gitrepo import GitRepo
    from tests.conftest import update

    low = edge == "low"
    write_recipe(history_repo, f"""
[scrape]
code_max_bytes = {1 if low else 2**63 - 1}
[materialize.co_changes]
max_changeset = {1 if low else 2**63 - 1}
min_revisions = {0 if low else 2**63 - 1}
min_shared = {0 if low else 2**63 - 1}
min_degree = {0 if low else 100}
include_merges = {str(low).lower()}
[materialize.expertise]
half_life_days = {decay.MIN_HALF_LIFE_DAYS if low else decay.MAX_HALF_LIFE_DAYS}
[materialize.signals]
half_life_days = {decay.MIN_HALF_LIFE_DAYS if low else decay.MAX_HALF_LIFE_DAYS}
windows = {[1] if low else [1, decay.MAX_WINDOW_DAYS]}
[materialize.embeddings]
enabled = false
[scry]
rrf_k = {1e-9 if low else 1e300}
""")
    recipe = read_recipe(history_repo / RECIPE_PATH)
    result = update(GitRepo.discover(history_repo), tmp_path / "k.db", recipe=recipe)
    assert {r.name for r in result.materialized} == {
        "views", "fts", "co_changes", "expertise", "signals"}


def test_a_bad_sessions_option_is_one_line(history_repo: Path, kenning) -> None:
    proc = kenning("scrape", "--sessions", "../..", cwd=history_repo, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "'../..' leaves the repository" in proc.stderr


def test_a_question_reads_only_the_scry_table(history_repo: Path, kenning) -> None:
    """An invalid materializer table stops what runs materializers, not a question (which
    would otherwise import every materializer to check it); an invalid [scry] table
    stops the question with the same one-line message a scrape gives."""
    kenning("scrape", "--no-embed", cwd=history_repo)
    write_recipe(history_repo, "[materialize.fts]\nenabled = 1\n[scry]\nrrf_k = 30\n")
    found = kenning("scry", "greeting", "--mode", "lexical", "--json", cwd=history_repo)
    assert json.loads(found.stdout)["results"]
    assert kenning("scrape", cwd=history_repo, check=False).returncode == 2
    write_recipe(history_repo, "[scry]\nrrf_k = 0\n")
    proc = kenning("scry", "greeting", "--mode", "lexical", cwd=history_repo, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "'scry.rrf_k'" in proc.stderr and str(RECIPE_PATH) in proc.stderr
