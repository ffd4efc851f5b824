"""`kenning init` and the .kenning/.gitignore: a repository set up the way people expect,
checked with real git (`git status`), and nothing a user wrote is ever overwritten."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import kenning
from fixtures.builder import RepoBuilder
from kenning.recipes import RECIPE_PATH, commented_default_recipe, default_recipe, read_recipe
from tests.conftest import Runner


def small_repo(path: Path) -> RepoBuilder:
    repo = RepoBuilder(path)
    repo.commit("Add the parser", "2025-01-02T10:00:00+00:00",
                {"src/parser.py": "def parse(text):\n    return text.split()\n"})
    return repo


def git_status(path: Path) -> list[str]:
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=path,
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_first_scrape_leaves_git_status_clean_but_a_recipe_still_shows(
        tmp_path: Path) -> None:
    small_repo(tmp_path / "repo")
    with kenning.open(tmp_path / "repo") as k:
        k.scrape(embed=False)
        assert k.db_path == tmp_path / "repo" / ".kenning" / "kenning.db"
    assert git_status(tmp_path / "repo") == []  # nothing from .kenning/
    # what else kenning keeps there while it works or may keep later (a database of a
    # past state, a log)
    for name in ("kenning.db-wal", "kenning.db-shm", "kenning.db-journal", "kenning.db.lock",
                 "until-2024-06-30.db", "until-2024-06-30.db-journal", "past/2024.db",
                 "hook.log"):
        path = tmp_path / "repo" / ".kenning" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("local")
    assert git_status(tmp_path / "repo") == []
    (tmp_path / "repo" / RECIPE_PATH).write_text("[scry]\nrrf_k = 30\n")
    assert git_status(tmp_path / "repo") == ["?? .kenning/recipe.toml"]  # shared: committed


def test_a_users_own_gitignore_is_never_overwritten_and_other_databases_get_none(
        tmp_path: Path) -> None:
    small_repo(tmp_path / "repo")
    mine = tmp_path / "repo" / ".kenning" / ".gitignore"
    mine.parent.mkdir()
    mine.write_text("kenning.db\n")
    with kenning.open(tmp_path / "repo") as k:
        k.scrape(materialize=False)
    assert mine.read_text() == "kenning.db\n"

    small_repo(tmp_path / "other")
    with kenning.open(tmp_path / "other", tmp_path / "elsewhere.db") as k:
        k.scrape(materialize=False)
    assert not (tmp_path / "other" / ".kenning").exists()  # a database elsewhere: no folder
    with kenning.open(tmp_path / "other", until="HEAD") as k:  # a past one, in .kenning/
        k.scrape(materialize=False)
        assert k.db_path.exists() and (tmp_path / "other" / ".kenning") in k.db_path.parents
    assert git_status(tmp_path / "other") == []


def test_init_sets_up_kenning_folder_and_a_second_run_changes_nothing(
        tmp_path: Path, kenning: Runner) -> None:
    repo = tmp_path / "repo"
    small_repo(repo)
    first = kenning("init", cwd=repo)
    assert ".kenning/.gitignore: created" in first.stdout
    assert ".kenning/recipe.toml: created" in first.stdout
    assert git_status(repo) == ["?? .kenning/recipe.toml"]  # the recipe is to be committed
    recipe = repo / RECIPE_PATH
    assert recipe.read_text().endswith(commented_default_recipe())
    assert read_recipe(recipe).values == default_recipe().values  # it changes nothing
    before = snapshot(repo / ".kenning")
    second = kenning("init", cwd=repo)
    assert "nothing to do" in second.stdout
    assert snapshot(repo / ".kenning") == before


def test_init_never_overwrites_a_recipe_or_gitignore(tmp_path: Path, kenning: Runner) -> None:
    repo = tmp_path / "repo"
    small_repo(repo)
    (repo / ".kenning").mkdir()
    (repo / RECIPE_PATH).write_text("[scry]\nrrf_k = 30\n")
    (repo / ".kenning" / ".gitignore").write_text("*.db\n")
    proc = kenning("init", cwd=repo)
    assert ".kenning/recipe.toml: kept" in proc.stdout
    assert (repo / RECIPE_PATH).read_text() == "[scry]\nrrf_k = 30\n"
    assert (repo / ".kenning" / ".gitignore").read_text() == "*.db\n"


def test_the_commented_recipe_shows_every_default_key_under_its_explanation() -> None:
    text = commented_default_recipe()
    assert tomllib.loads(text) == {}  # all comments: the defaults apply
    # removing one `#` from each commented-out line gives back the default recipe exactly
    code = "\n".join(line[1:] if line.startswith("#") and not line.startswith("# ") else ""
                     for line in text.splitlines())
    assert tomllib.loads(code) == tomllib.loads(default_recipe().to_toml())
    assert tomllib.loads(code) == default_recipe().values
    lines = text.splitlines()
    above = {line: lines[i - 1] for i, line in enumerate(lines) if i}
    assert "session notes" in above['#session_paths = ["layer/sessions"]']
    assert "reciprocal-rank fusion" in next(v for k, v in above.items()
                                            if k.startswith("#rrf_k"))
    assert "#[materialize.co_changes]" in lines
