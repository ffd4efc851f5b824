"""Writing TOML (the effective recipe, for `kenning recipe show`): the standard
library reads TOML but does not write it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kenning.params import toml_key


def dump_toml(values: Mapping[str, Any], docs: Mapping[str, str] | None = None) -> str:
    """`values` as TOML; `docs` maps a dotted key to a comment written above it."""
    lines: list[str] = []
    _table(values, [], lines, docs or {})
    return "\n".join(lines).strip() + "\n"


def _table(table: Mapping[str, Any], name: list[str], lines: list[str],
           docs: Mapping[str, str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if name and (scalars or not tables):
        doc = docs.get(".".join(name))
        if doc:
            lines.append(f"# {doc}")
        lines.append(f"[{'.'.join(toml_key(n) for n in name)}]")
    for key, value in scalars.items():
        doc = docs.get(".".join([*name, key]))
        if doc:
            lines.append(f"# {doc}")
        lines.append(f"{toml_key(key)} = {_value(value)}")
    if name and (scalars or not tables):
        lines.append("")
    for key, value in tables.items():
        _table(value, [*name, key], lines, docs)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
