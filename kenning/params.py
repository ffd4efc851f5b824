"""Parameters declared once: frozen dataclasses whose fields carry a default, a
description and bounds.

The scrape options, each materializer's parameters and scry's settings are such
dataclasses (subclasses of `Params`). Building one checks every field, and the
recipe builds them from its TOML tables with `from_table`, so what `kenning
recipe check` accepts is exactly what a scrape accepts: there is no other list
of keys, types, defaults or limits.

A field's type says what the recipe may hold: `bool`, `int`, `float` (an
integer is accepted and becomes a float; NaN and infinity are not), `str`,
`tuple[X, ...]` (a TOML array) or `tuple[tuple[str, str], ...]` (a TOML table of
strings, kept sorted by key).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kenning.errors import KenningError

# SQLite and the canonical JSON encoder stop at 64-bit integers.
_INT64 = 2**63 - 1


class ParamError(KenningError):
    """One parameter is wrong: `key` names it below its table, `reason` says why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid {key}: {reason}")
        self.key = key
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a field allows, beyond its type."""

    doc: str
    minimum: float | None = None  # inclusive
    above: float | None = None  # exclusive
    maximum: float | None = None  # inclusive
    check: Callable[[Any], str | None] | None = None  # why one value (or item) is wrong
    in_recipe: bool = True  # False: a command-line choice only (e.g. --workers)


def param(default: Any, doc: str, *, minimum: float | None = None, above: float | None = None,
          maximum: float | None = None, check: Callable[[Any], str | None] | None = None,
          in_recipe: bool = True) -> Any:
    """A field of a `Params` dataclass: its default, what it means, and its bounds."""
    if isinstance(default, list | dict | set):
        raise TypeError("a parameter's default must be immutable (a tuple)")
    spec = Spec(doc, minimum, above, maximum, check, in_recipe)
    return dataclasses.field(default=default, metadata={"param": spec})


@dataclasses.dataclass(frozen=True)
class Params:
    """Base of every parameter dataclass: building one validates (and normalizes)
    every field, raising `ParamError` for the first that is wrong."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            kind = _kinds(type(self))[f.name]
            value = _coerce(kind, getattr(self, f.name), f.name, _spec(f))
            object.__setattr__(self, f.name, value)


P = TypeVar("P", bound=Params)


def from_table(cls: type[P], table: Mapping[str, Any]) -> P:
    """The parameters a recipe table sets; every other field keeps its default."""
    known = recipe_fields(cls)
    for key in table:
        if key not in known:
            raise ParamError(key, "unknown key" + suggest(key, known))
    return cls(**table)


def to_table(params: Params, *, recipe_only: bool = True) -> dict[str, Any]:
    """The fields as TOML values (arrays as lists, string tables as dicts), in
    declaration order: for `kenning recipe show` and for hashing."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        if recipe_only and not _spec(f).in_recipe:
            continue
        value = getattr(params, f.name)
        kind = _kinds(type(params))[f.name]
        values[f.name] = (dict(value) if kind == "table"
                          else list(value) if isinstance(kind, tuple) else value)
    return values


def recipe_fields(cls: type[Params]) -> dict[str, Spec]:
    """The fields a recipe may set, with their specs, in declaration order."""
    return {f.name: _spec(f) for f in dataclasses.fields(cls) if _spec(f).in_recipe}


def suggest(key: str, known: Mapping[str, Any] | list[str]) -> str:
    names = list(known)
    close = difflib.get_close_matches(key, names, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known: {', '.join(names)}" if names else "; this table takes no keys"


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A key as TOML writes it: bare when it can be, else quoted."""
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


# -- checking one value ----------------------------------------------------------------

Kind = str | tuple[str, str]  # "bool" | "int" | "float" | "str" | "table" | ("array", item)
_SCALARS = {bool: "bool", int: "int", float: "float", str: "str"}


def _spec(f: dataclasses.Field[Any]) -> Spec:
    spec = f.metadata.get("param")
    if not isinstance(spec, Spec):
        raise TypeError(f"field {f.name} is not declared with param()")
    return spec


_KINDS: dict[type, dict[str, Kind]] = {}  # per class, read once from its type hints


def _kinds(cls: type[Params]) -> dict[str, Kind]:
    if cls not in _KINDS:
        hints = typing.get_type_hints(cls)
        _KINDS[cls] = {f.name: _kind_of(hints[f.name], f.name) for f in dataclasses.fields(cls)}
    return _KINDS[cls]


def _kind_of(hint: Any, name: str) -> Kind:
    if hint in _SCALARS:
        return _SCALARS[hint]
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if item in _SCALARS:
            return ("array", _SCALARS[item])
        if typing.get_args(item) == (str, str):
            return "table"
    raise TypeError(f"parameter {name}: unsupported type {hint}")


def _coerce(kind: Kind, value: Any, key: str, spec: Spec) -> Any:
    if isinstance(kind, tuple):
        if not isinstance(value, list | tuple):
            raise ParamError(key, f"must be an array, not {describe(value)}")
        return tuple(_scalar(kind[1], item, key, spec) for item in value)
    if kind == "table":
        return _table(value, key, spec)
    return _scalar(kind, value, key, spec)


def _scalar(kind: str, value: Any, key: str, spec: Spec) -> Any:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    ok = {"bool": isinstance(value, bool), "str": isinstance(value, str),
          "int": number and isinstance(value, int), "float": number}[kind]
    if not ok:
        expected = {"bool": "a boolean", "str": "a string", "int": "an integer",
                    "float": "a number"}[kind]
        raise ParamError(key, f"must be {expected}, not {describe(value)}")
    if kind == "float":
        value = float(value)
        if not math.isfinite(value):
            raise ParamError(key, f"must be a finite number, not {value}")
    if kind == "int" and abs(value) > _INT64:
        raise ParamError(key, f"must fit in 64 bits, not {value}")
    if number:
        _bounds(value, key, spec)
    if spec.check is not None:
        reason = spec.check(value)
        if reason:
            raise ParamError(key, reason)
    return value


def _bounds(value: float, key: str, spec: Spec) -> None:
    if spec.above is not None and not value > spec.above:
        raise ParamError(key, f"must be greater than {_num(spec.above)}, not {_num(value)}")
    if spec.minimum is not None and not value >= spec.minimum:
        bound = ("must not be negative" if spec.minimum == 0
                 else f"must be at least {_num(spec.minimum)}")
        raise ParamError(key, f"{bound}, not {_num(value)}")
    if spec.maximum is not None and not value <= spec.maximum:
        raise ParamError(key, f"must be at most {_num(spec.maximum)}, not {_num(value)}")


def _table(value: Any, key: str, spec: Spec) -> tuple[tuple[str, str], ...]:
    """A TOML table of strings, or pairs already (a dataclass built in code, or read
    back from JSON as lists): sorted pairs either way."""
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list | tuple) and all(
            isinstance(p, list | tuple) and len(p) == 2 for p in value):
        items = [(p[0], p[1]) for p in value]
    else:
        raise ParamError(key, f"must be a table, not {describe(value)}")
    pairs = []
    for name, item in items:
        where = f"{key}.{toml_key(str(name))}"
        if not isinstance(name, str) or not isinstance(item, str):
            raise ParamError(where, f"must be a string, not {describe(item)}")
        if spec.check is not None:
            reason = spec.check((name, item))
            if reason:
                raise ParamError(where, reason)
        pairs.append((name, item))
    return tuple(sorted(pairs))


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(value: Any) -> str:
    """What kind of TOML value this is, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__
