"""Recipes: which scrape options and which materializers, with what parameters.

The packaged `default.toml` is both the defaults and the schema: a
repository's `.kenning/recipe.toml` overrides it key by key, and a key the
default does not have, or a value of another type, is an error that names the
file, the key and the reason (and nothing is scraped or built).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kenning.errors import KenningError
from kenning.scrapers.base import ScrapeOptions

RECIPE_PATH = Path(".kenning") / "recipe.toml"
DEFAULT_SOURCE = "<default recipe>"

# Tables whose keys are free (the default lists none); value type per table.
_OPEN_TABLES = {"scrape.code_extensions": str}
# Numbers that must be strictly positive (every other number must be >= 0).
_POSITIVE = {"scrape.code_max_bytes", "materialize.co_changes.max_changeset",
             "materialize.expertise.half_life_days", "materialize.signals.half_life_days",
             "materialize.signals.windows", "scry.rrf_k"}


@dataclass(frozen=True)
class Recipe:
    source: str  # the recipe file, or DEFAULT_SOURCE
    values: dict[str, Any]  # the effective recipe: the default with the file's overrides

    def materializer(self, name: str) -> tuple[bool, dict[str, Any]]:
        """(enabled, parameters) of one materializer; one the recipe does not know runs
        with no parameters."""
        table = dict(self.values.get("materialize", {}).get(name, {}))
        enabled = bool(table.pop("enabled", True))
        return enabled, table

    def scrape_options(self, *, session_paths: tuple[str, ...] | None = None,
                       worktree: bool = False) -> ScrapeOptions:
        scrape = self.values["scrape"]
        return ScrapeOptions(
            session_paths=session_paths or tuple(scrape["session_paths"]),
            worktree=worktree,
            code_max_bytes=scrape["code_max_bytes"],
            code_exclude=tuple(scrape["code_exclude"]),
            code_extensions=tuple(sorted(scrape["code_extensions"].items())),
        )

    @property
    def rrf_k(self) -> float:
        """The reciprocal-rank fusion constant of hybrid search."""
        return float(self.values["scry"]["rrf_k"])

    def to_toml(self) -> str:
        return _dump_toml(self.values)


def default_recipe() -> Recipe:
    text = resources.files("kenning.recipes").joinpath("default.toml").read_text("utf-8")
    return Recipe(DEFAULT_SOURCE, tomllib.loads(text))


def commented_default_recipe() -> str:
    """The default recipe as a recipe file that changes nothing (what `kenning init`
    writes): every key with its default value, commented out as `#key = value` under
    its `[table]` line, each below the explanation the packaged default gives it."""
    line_of = re.compile(r'^(?P<code>(?:[^#"]|"(?:[^"\\]|\\.)*")*?)\s*(?:#\s?(?P<note>.*))?$')

    def dotted(code: str, table: str) -> tuple[str, str]:
        """(the table this line is in, the dotted name of what it sets)"""
        if code.startswith("["):
            return code.strip("[] "), code.strip("[] ")
        return table, f"{table}.{code.split('=', 1)[0].strip()}"

    notes: dict[str, list[str]] = {}  # dotted name -> its explanation's lines
    pending: list[str]
    # the explanations are the packaged default's comments, where its text is at hand
    packaged = resources.files("kenning.recipes").joinpath("default.toml")
    if packaged.is_file():
        table, pending = "", []
        for raw in packaged.read_text("utf-8").splitlines():
            match = line_of.match(raw.strip())
            code, note = (match["code"], match["note"]) if match else ("", None)
            if not code:  # a comment line explains what follows; a blank line ends it
                pending = [*pending, f"# {note}"] if note is not None else []
                continue
            table, name = dotted(code, table)
            notes[name] = [*pending, *([f"# {note}"] if note else [])]
            pending = []
    lines: list[str] = []
    table = ""
    for line in default_recipe().to_toml().splitlines():
        if not line.strip() or line.startswith("#"):
            lines.append(line)
            continue
        table, name = dotted(line, table)
        lines.extend([*notes.get(name, []), f"#{line}"])
    return "\n".join(lines) + "\n"


def load_recipe(root: Path | None) -> Recipe:
    """The effective recipe of the repository at `root` (the default when it has none)."""
    if root is None or not (root / RECIPE_PATH).is_file():
        return default_recipe()
    return read_recipe(root / RECIPE_PATH)


def read_recipe(path: Path) -> Recipe:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise KenningError(f"{path}: cannot read the recipe: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise KenningError(f"{path}: the recipe is not UTF-8 text") from exc
    try:
        overrides = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KenningError(f"{path}: not valid TOML: {exc}") from exc
    default = default_recipe().values
    return Recipe(str(path), _merge(default, overrides, path, ""))


# -- validation ----------------------------------------------------------------------


def _merge(default: dict[str, Any], given: dict[str, Any], path: Path,
           prefix: str) -> dict[str, Any]:
    merged = copy.deepcopy(default)
    for key, value in given.items():
        dotted = prefix + key
        if dotted in _OPEN_TABLES:
            merged[key] = _open_table(value, _OPEN_TABLES[dotted], path, dotted)
            continue
        if key not in default:
            raise _error(path, dotted, "unknown key" + _suggest(key, default))
        expected = default[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise _error(path, dotted, f"must be a table, not {_kind(value)}")
            merged[key] = _merge(expected, value, path, dotted + ".")
        else:
            merged[key] = _scalar(expected, value, path, dotted)
    return merged


def _scalar(expected: Any, value: Any, path: Path, dotted: str) -> Any:
    if isinstance(expected, list):
        if not isinstance(value, list):
            raise _error(path, dotted, f"must be an array, not {_kind(value)}")
        item = expected[0] if expected else None
        if item is None:
            return value
        return [_scalar(item, v, path, dotted) for v in value]
    ok = (isinstance(value, bool) if isinstance(expected, bool)
          else isinstance(value, int) and not isinstance(value, bool) if isinstance(expected, int)
          else isinstance(value, int | float) and not isinstance(value, bool)
          if isinstance(expected, float)
          else isinstance(value, type(expected)))
    if not ok:
        raise _error(path, dotted, f"must be {_kind(expected)}, not {_kind(value)}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if dotted in _POSITIVE and value <= 0:
            raise _error(path, dotted, f"must be greater than 0, not {value}")
        if value < 0:
            raise _error(path, dotted, f"must not be negative, not {value}")
        if isinstance(expected, float):
            return float(value)
    return value


def _open_table(value: Any, item_type: type, path: Path, dotted: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _error(path, dotted, f"must be a table, not {_kind(value)}")
    for key, item in value.items():
        if not isinstance(item, item_type):
            raise _error(path, f"{dotted}.{key}", f"must be {_kind(item_type())}, "
                         f"not {_kind(item)}")
        if dotted == "scrape.code_extensions" and not key.startswith("."):
            raise _error(path, f"{dotted}.{key}", 'an extension starts with "." (".pyi")')
    return dict(value)


def _error(path: Path, dotted: str, reason: str) -> KenningError:
    return KenningError(f"invalid recipe {path}: key {dotted!r}: {reason}")


def _suggest(key: str, known: dict[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(known)}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


# -- writing TOML (the effective recipe, for `kenning recipe show`) -----------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _dump_toml(values: dict[str, Any]) -> str:
    lines: list[str] = []
    _dump_table(values, [], lines)
    return "\n".join(lines).strip() + "\n"


def _dump_table(table: dict[str, Any], name: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if name and (scalars or not tables):
        lines.append(f"[{'.'.join(_key(n) for n in name)}]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    if scalars:
        lines.append("")
    for key, value in tables.items():
        _dump_table(value, [*name, key], lines)
    if name and not scalars and not tables:
        lines.append("")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
