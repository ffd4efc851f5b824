"""`kenning scrape` as a whole: read the recipe, scrape, then bring the materializers up
to date. Two transactions: a failed materialization leaves the new eventlog and
materializers marked stale (`kenning status` says which), never half-built tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from kenning.materialize.engine import RunResult, materialize
from kenning.materialize.registry import MATERIALIZERS
from kenning.progress import Progress
from kenning.recipes import Recipe, load_recipe
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.engine import ScrapeResult, scrape


@dataclass
class UpdateResult:
    scrape: ScrapeResult
    recipe: Recipe
    materialized: list[RunResult] = field(default_factory=list)


def update(
    repo: GitRepo,
    db_path: Path,
    *,
    scrapers: Sequence[str] = (),
    until: str | None = None,
    full: bool = False,
    session_paths: Sequence[str] = (),
    worktree: bool = False,
    run_materializers: bool = True,
    embed: bool = True,
    recipe: Recipe | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> UpdateResult:
    recipe = recipe or load_recipe(repo.root)  # an invalid recipe stops us before any write
    options = recipe.scrape_options(session_paths=tuple(session_paths) or None,
                                    worktree=worktree)
    if workers is not None:  # how, not what: the eventlog does not depend on it
        options = replace(options, workers=workers)
    scraped = scrape(repo, db_path, scrapers=scrapers, until=until, full=full, options=options,
                     progress=progress)
    result = UpdateResult(scraped, recipe)
    if run_materializers:
        names: list[str] = []
        if not embed:  # --no-embed: every enabled materializer but embeddings (left stale)
            names = [n for n in MATERIALIZERS if n != "embeddings" and recipe.materializer(n)[0]]
        if embed or names:
            result.materialized = materialize(db_path, recipe, names)
    return result
