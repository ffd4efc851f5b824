"""Fitting an answer into a model's context: at most N characters of JSON.

First every long text is cut (to 1,000 characters, then 400, then 160: snippets,
commit bodies, notes), then items are left out from the end of the longest lists.
Whatever was cut is said in the answer's `notes`, which are never cut themselves, so
the agent knows to narrow the question or `show` one item whole.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULT_MAX_CHARS = 16_000
MIN_MAX_CHARS = 1_000  # below this even one result with its notes does not fit
TEXT_CAPS = (1_000, 400, 160)
_KEPT = "notes"  # the top-level key that is never cut


def size(payload: Any) -> int:
    return len(render(payload))


def render(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def fit(payload: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """`payload` as it is when it fits, else a cut copy with a note saying what went."""
    if size(payload) <= max_chars:
        return payload
    notes = list(payload.get(_KEPT) or [])
    cut: dict[str, Any] = {}
    for cap in TEXT_CAPS:
        cut = {k: v if k == _KEPT else _cap_texts(v, cap) for k, v in payload.items()}
        if size(cut) + 200 <= max_chars:  # room for the note below
            return {**cut, _KEPT: [*notes, f"texts longer than {cap} characters were cut "
                                   f"(ending in …) to fit {max_chars} characters; `show` "
                                   "returns one item whole"]}
    parts = _containers(cut)
    before = {id(part): len(part) for _, part in parts}
    while (over := size(cut) + 300 - max_chars) > 0:
        candidates = [(size(part), part) for _, part in parts if part]
        if not candidates:
            break
        chars, largest = max(candidates, key=lambda c: c[0])
        # drop about as many entries as the overflow holds, at least one, from the end
        _drop_last(largest, min(len(largest), max(1, over * len(largest) // chars)))
    left_out = [f"{before[id(part)] - len(part)} of {before[id(part)]} {name}"
                for name, part in parts if len(part) < before[id(part)]]
    note = (f"texts were cut to {TEXT_CAPS[-1]} characters and "
            f"{', '.join(left_out[:3]) or 'nothing'} left out to fit {max_chars} characters; "
            "ask for fewer (limit) or narrow the question")
    return {**cut, _KEPT: [*notes, note]}


def _cap_texts(value: Any, cap: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= cap else value[:cap - 1].rstrip() + "…"
    if isinstance(value, list):
        return [_cap_texts(v, cap) for v in value]
    if isinstance(value, dict):
        return {k: _cap_texts(v, cap) for k, v in value.items()}
    return value


def _containers(value: Any, name: str = "items",
                top: bool = True) -> list[tuple[str, list[Any] | dict[str, Any]]]:
    """Every list, and every mapping below the top level, outside `notes`: what can lose
    entries, each with the key that holds it."""
    found: list[tuple[str, list[Any] | dict[str, Any]]] = []
    if isinstance(value, dict):
        if not top:
            found.append((name, value))
        for key, inner in value.items():
            if key != _KEPT:
                found.extend(_containers(inner, key, top=False))
    elif isinstance(value, list):
        found.append((name, value))
        for inner in value:
            found.extend(_containers(inner, name, top=False))
    return found


def _drop_last(part: list[Any] | dict[str, Any], n: int) -> None:
    if isinstance(part, list):
        del part[-n:]
    else:
        for key in list(part)[-n:]:
            del part[key]
