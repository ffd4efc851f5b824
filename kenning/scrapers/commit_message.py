"""What a commit message says beyond its text: conventional-commit parts,
issue and pull-request references, and trailers."""

from __future__ import annotations

import re
from typing import Any

_CONVENTIONAL = re.compile(
    r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()\n]*)\))?(?P<breaking>!)?:\s+(?P<description>\S.*)$"
)
# `#123`, `GH-123`, `owner/repo#123`, and tracker keys such as `PROJ-42`.
_REFS = re.compile(
    r"(?<![\w/#-])(?:(?P<repo>[\w.-]+/[\w.-]+)?#(?P<num>\d+)|GH-(?P<gh>\d+)|(?P<key>[A-Z][A-Z0-9]+-\d+))\b"
)
_TRAILER = re.compile(r"^(?P<key>[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+|Fixes|Closes|Resolves|Refs)"
                      r":\s+(?P<value>\S.*)$")


def split_message(message: str) -> tuple[str, str]:
    """(subject, body): the first paragraph joined to one line, and the rest."""
    text = message.strip("\n")
    subject, _, body = text.partition("\n\n")
    return " ".join(subject.split("\n")).strip(), body.strip("\n")


def parse_conventional(subject: str, body: str) -> dict[str, Any] | None:
    match = _CONVENTIONAL.match(subject)
    if not match or match["type"].lower() in {"merge", "revert", "http", "https"}:
        return None
    breaking = bool(match["breaking"]) or bool(
        re.search(r"^BREAKING[ -]CHANGE:", body, re.MULTILINE)
    )
    return {
        "type": match["type"].lower(),
        "scope": match["scope"],
        "breaking": breaking,
        "description": match["description"].strip(),
    }


def find_refs(message: str) -> list[str]:
    refs = set()
    for m in _REFS.finditer(message):
        if m["num"]:
            refs.add(f"{m['repo'] or ''}#{m['num']}")
        elif m["gh"]:
            refs.add(f"#{m['gh']}")
        elif m["key"] and not m["key"].startswith(("UTF-", "ISO-", "SHA-", "RFC-")):
            refs.add(m["key"])
    return sorted(refs)


def find_trailers(message: str) -> list[dict[str, str]]:
    """`Key: value` lines anywhere in the message, in message order."""
    trailers = []
    for line in message.splitlines():
        m = _TRAILER.match(line.strip())
        if m:
            trailers.append({"key": m["key"], "value": m["value"].strip()})
    return trailers
