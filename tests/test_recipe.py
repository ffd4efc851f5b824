"""Recipes: the default, key-by-key overrides, and invalid recipes that change nothing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from kenning.errors import KenningError
from kenning.recipes import RECIPE_PATH, default_recipe, load_recipe, read_recipe
from kenning.scrapers.base import ScrapeOptions


def write_recipe(repo: Path, text: str) -> Path:
    path = repo / RECIPE_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_default_recipe_matches_the_scrape_defaults(tmp_path: Path) -> None:
    recipe = load_recipe(tmp_path)  # no recipe file: the packaged default
    assert recipe.source == default_recipe().source
    assert recipe.scrape_options() == ScrapeOptions()
    assert recipe.materializer("co_changes") == (True, {
        "max_changeset": 30, "min_revisions": 5, "min_shared": 5, "min_degree": 30,
        "include_merges": False})
    assert recipe.materializer("signals")[1]["windows"] == [7, 30, 90]
    assert recipe.materializer("embeddings")[1] == {"model": "minilm"}
    assert recipe.rrf_k == 60
    assert recipe.materializer("not-in-the-recipe") == (True, {})


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
    assert enabled and params["min_shared"] == 3 and params["max_changeset"] == 30
    assert recipe.materializer("expertise")[1]["half_life_days"] == 30.0
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
     "greater than 0"),
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
