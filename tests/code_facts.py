"""Reading extracted code facts in tests: decoded payloads, and one line per fact."""

from __future__ import annotations

import json
from typing import Any

from kenning.scrapers.code.extract import decode_facts, extract

Fact = tuple[str, str, dict[str, Any]]  # (event type, key, payload)


def facts_of(language: str, src: bytes) -> tuple[list[Fact], bool]:
    """The facts `extract` gives for `src`, payloads decoded, and whether it was partial."""
    out, partial = extract(language, src)
    return [(t, k, json.loads(data)) for t, k, data in decode_facts(out)], partial


def summary(facts: list[Fact]) -> list[str]:
    """`function A.f`, `import import:os`, `call A.f -> g, h`: what a fixture's list pins
    (chunks, the code between definitions, are pinned by test_code_chunks)."""
    return [f"{t[5:]} {k}" + (" -> " + ", ".join(c["callee"] for c in p["calls"])
                              if t == "code.call" else "")
            for t, k, p in facts if t != "code.chunk"]


def lines(expected: str) -> list[str]:
    return [line.strip() for line in expected.strip().splitlines()]
