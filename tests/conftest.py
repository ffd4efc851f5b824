"""Shared test fixtures: real git repositories, a real SQLite file, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

from fixtures import history

if TYPE_CHECKING:
    from kenning.api.handle import ScrapeReport
    from kenning.recipes import Recipe
    from kenning.repository.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(tempfile.gettempdir()) / f"kenning-test-models-{os.getuid()}"

# Property tests search the same examples on every run, so a red CI run is a real
# regression that reruns red, never a new random find; HYPOTHESIS_PROFILE=explore
# searches afresh.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's caches, and nothing is downloaded."""
    cache = tmp_path_factory.getbasetemp() / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    # the model files built from the weights (ONNX graph; static table, a minute to
    # distil) are the same bytes for every test and session: built once per machine
    monkeypatch.setenv("KENNING_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("KENNING_NO_BACKGROUND", "1")  # no test leaves a process running
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def history_repo(tmp_path: Path) -> Path:
    """The standard history fixture (fixtures/history.py), built fresh."""
    path = tmp_path / "repo"
    history.build(path)
    return path


@pytest.fixture
def reranked(history_repo: Path, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A database of the history fixture embedded by `static-rerank`, whose static
    table is a seeded random one (distilling the real one takes a minute)."""
    import numpy as np

    from kenning.embed import encode, models, static
    from kenning.embed.model import DIMENSIONS
    from kenning.recipes import Recipe

    table = np.random.default_rng(11).standard_normal((30522, DIMENSIONS)).astype(np.float32)
    np.save(tmp_path / "table.npy", table)
    monkeypatch.setattr(static, "static_table_file", lambda cache_dir=None: tmp_path / "table.npy")
    # encoders are kept per process: this test's table must not outlive it
    monkeypatch.setattr(models, "_bulk_encoders", {})
    monkeypatch.setattr(encode, "_query_encoders", {})
    recipe = Recipe.from_values("test", {"materialize": {"embeddings": {"model": "static-rerank"}}})
    db = tmp_path / "k.db"
    from kenning.repository.gitrepo import GitRepo

    update(GitRepo.discover(history_repo), db, recipe=recipe)
    yield db


Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def kenning() -> Runner:
    """Run `python -m kenning ARGS` in a real subprocess, as a user would."""

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "kenning", *args], cwd=cwd, env=full_env,
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"kenning {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    return run


def update(repo: GitRepo, db: Path, *, recipe: Recipe | None = None,
           run_materializers: bool = True, **options: Any) -> ScrapeReport:
    """Scrape, then materialize, through the public handle (what `kenning scrape` does)."""
    from kenning.api.handle import Kenning
    from kenning.recipes import load_recipe

    handle = Kenning(repo, db, recipe or load_recipe(repo.root))
    with handle:
        return handle.scrape(materialize=run_materializers, **options)


def copied(repo: Path, tmp_path: Path) -> Path:
    """A copy of a scraped repository (database included) that a test may change: a
    module scrapes once, and each test works on its own copy."""
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy, symlinks=True)
    return copy
