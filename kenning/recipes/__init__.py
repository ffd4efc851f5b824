"""Recipes: which scrape options and which materializers, with what parameters.

A repository's `.kenning/recipe.toml` sets some of them; everything else keeps
its default. The defaults, types and bounds are declared once, on the
dataclasses the recipe fills (kenning/params.py): `ScrapeOptions` for
`[scrape]`, each materializer's `params_type` for `[materialize.NAME]` (plus
`enabled`), `ScryParams` for `[scry]`. A key they do not declare, a value of
another type or out of bounds is an error that names the file, the key and the
reason, and nothing is scraped or built. `kenning recipe show` prints the
effective recipe, each key with what it means.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from kenning.errors import KenningError
from kenning.materialize.registry import MATERIALIZERS, load
from kenning.params import (
    ParamError,
    Params,
    describe,
    from_table,
    recipe_fields,
    suggest,
    to_table,
)
from kenning.recipes.toml import dump_toml
from kenning.scrapers.base import ScrapeOptions
from kenning.scry.fusion import ScryParams

RECIPE_PATH = Path(".kenning") / "recipe.toml"
DEFAULT_SOURCE = "<default recipe>"
_SECTIONS = ("scrape", "materialize", "scry")


@dataclass(frozen=True)
class Recipe:
    source: str  # the recipe file, or DEFAULT_SOURCE
    scrape: ScrapeOptions
    materializers: Mapping[str, tuple[bool, Params]]  # name -> (enabled, parameters)
    scry: ScryParams

    @classmethod
    def from_values(cls, source: str, values: Mapping[str, Any]) -> Recipe:
        """The recipe that TOML `values` (what a recipe file holds) make, checked
        against the declared parameters; `source` names the file in errors."""
        try:
            return cls._build(source, values)
        except ParamError as exc:
            raise _invalid(source, exc) from exc

    @classmethod
    def _build(cls, source: str, values: Mapping[str, Any]) -> Recipe:
        for key in values:
            if key not in _SECTIONS:
                raise ParamError(key, "unknown key" + suggest(key, list(_SECTIONS)))
        scrape = _prefixed("scrape", lambda: from_table(ScrapeOptions, _table(values, "scrape")))
        scry = _prefixed("scry", lambda: from_table(ScryParams, _table(values, "scry")))
        tables = _table(values, "materialize")
        for name in tables:
            if name not in MATERIALIZERS:
                raise ParamError(f"materialize.{name}",
                                 "unknown key" + suggest(name, list(MATERIALIZERS)))
        materializers = {name: _materializer(name, _table(tables, name, "materialize."))
                         for name in MATERIALIZERS}
        return cls(source, scrape, materializers, scry)

    def materializer(self, name: str) -> tuple[bool, Params]:
        """(enabled, parameters) of one materializer."""
        if name in self.materializers:
            return self.materializers[name]
        return True, load(name).params_type()  # registered after this recipe was read

    def scrape_options(self, *, session_paths: tuple[str, ...] | None = None,
                       worktree: bool = False) -> ScrapeOptions:
        """The recipe's scrape options with the command line's choices (checked too)."""
        return replace(self.scrape, session_paths=session_paths or self.scrape.session_paths,
                       worktree=worktree)

    @property
    def rrf_k(self) -> float:
        """The reciprocal-rank fusion constant of hybrid search."""
        return self.scry.rrf_k

    @property
    def values(self) -> dict[str, Any]:
        """The effective recipe as TOML values (what `kenning recipe show --json` prints)."""
        return {
            "scrape": to_table(self.scrape),
            "materialize": {name: {"enabled": enabled, **to_table(params)}
                            for name, (enabled, params) in self.materializers.items()},
            "scry": to_table(self.scry),
        }

    def to_toml(self) -> str:
        """The effective recipe as TOML, each key with a comment that says what it means."""
        docs: dict[str, str] = {}
        for prefix, params_type in (("scrape", ScrapeOptions), ("scry", ScryParams)):
            docs.update({f"{prefix}.{k}": s.doc for k, s in recipe_fields(params_type).items()})
        for name, (_, params) in self.materializers.items():
            docs[f"materialize.{name}.enabled"] = f"run the {name} materializer"
            docs.update({f"materialize.{name}.{k}": s.doc
                         for k, s in recipe_fields(type(params)).items()})
        header = (f"# the effective recipe (from {self.source}); a repository's "
                  f"{RECIPE_PATH.as_posix()} sets any of these keys")
        return header + "\n\n" + dump_toml(self.values, docs)


def default_recipe() -> Recipe:
    return Recipe.from_values(DEFAULT_SOURCE, {})


def recipe_file(root: Path) -> Path | None:
    """The repository's recipe file, if there is anything at its place (a directory
    there is an error when it is read, not a reason to use the default)."""
    path = root / RECIPE_PATH
    return path if path.exists() or path.is_symlink() else None


def commented_default_recipe() -> str:
    """The default recipe as a recipe file that changes nothing (what `kenning init`
    writes): every key with its default value and explanation, commented out as
    `#key = value` under its `#[table]` line."""
    lines = []
    for line in default_recipe().to_toml().splitlines():
        lines.append(f"#{line}" if line.strip() and not line.startswith("#") else line)
    return "\n".join(lines) + "\n"


def load_recipe(root: Path | None) -> Recipe:
    """The effective recipe of the repository at `root` (the default when it has none)."""
    path = recipe_file(root) if root is not None else None
    return read_recipe(path) if path is not None else default_recipe()


def load_scry_params(root: Path | None) -> ScryParams:
    """Only the [scry] table of the effective recipe, checked as `load_recipe` checks
    it. A question needs nothing else, and checking the materializers' tables imports
    every materializer (20 ms of a 0.3 s question from the shell); an invalid table of
    theirs stops what runs them, not a question."""
    path = recipe_file(root) if root is not None else None
    values = _read_values(path) if path is not None else {}
    try:
        return _prefixed("scry", lambda: from_table(ScryParams, _table(values, "scry")))
    except ParamError as exc:
        raise _invalid(str(path), exc) from exc


def _invalid(source: str, exc: ParamError) -> KenningError:
    return KenningError(f"invalid recipe {source}: key {exc.key!r}: {exc.reason}")


def read_recipe(path: Path) -> Recipe:
    return Recipe.from_values(str(path), _read_values(path))


def _read_values(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise KenningError(f"{path} is a directory; the recipe is a TOML file "
                           "(see `kenning recipe show`)")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise KenningError(f"{path}: cannot read the recipe: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise KenningError(f"{path}: the recipe is not UTF-8 text") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KenningError(f"{path}: not valid TOML: {exc}") from exc


def _table(values: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any]:
    value = values.get(key, {})
    if not isinstance(value, Mapping):
        raise ParamError(prefix + key, f"must be a table, not {describe(value)}")
    return value


def _materializer(name: str, table: Mapping[str, Any]) -> tuple[bool, Params]:
    params_type = load(name).params_type
    known = ["enabled", *recipe_fields(params_type)]
    for key in table:
        if key not in known:
            raise ParamError(f"materialize.{name}.{key}", "unknown key" + suggest(key, known))
    params = dict(table)
    enabled = params.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise ParamError(f"materialize.{name}.enabled",
                         f"must be a boolean, not {describe(enabled)}")
    return enabled, _prefixed(f"materialize.{name}", lambda: from_table(params_type, params))


T = TypeVar("T")


def _prefixed(prefix: str, build: Callable[[], T]) -> T:
    """Run `build`, naming its table in the key of any error."""
    try:
        return build()
    except ParamError as exc:
        raise ParamError(f"{prefix}.{exc.key}", exc.reason) from exc
