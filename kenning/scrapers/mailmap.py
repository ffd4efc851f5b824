"""`.mailmap`, read from the target commit's tree and applied in Python, so
that neither the work tree nor the user's git config changes author names."""

from __future__ import annotations

import re

_ENTRY = re.compile(
    r"^\s*(?P<name1>[^<#]*?)\s*<(?P<email1>[^>]*)>"
    r"\s*(?:(?P<name2>[^<#]*?)\s*<(?P<email2>[^>]*)>)?"
)


class Mailmap:
    def __init__(self, text: str = "") -> None:
        # (commit email, commit name or None) -> (proper name or None, proper email or None)
        self._map: dict[tuple[str, str | None], tuple[str | None, str | None]] = {}
        for line in text.splitlines():
            line = line.split("#", 1)[0]  # comments, as git reads them
            m = _ENTRY.match(line)
            if not m:
                continue
            if m["email2"] is not None:
                proper = (m["name1"] or None, m["email1"] or None)
                key = (m["email2"].lower(), m["name2"] or None)
            else:
                proper = (m["name1"] or None, None)
                key = (m["email1"].lower(), None)
            self._map[key] = proper

    def apply(self, name: str, email: str) -> tuple[str, str]:
        hit = self._map.get((email.lower(), name)) or self._map.get((email.lower(), None))
        if hit is None:
            return name, email
        return hit[0] or name, hit[1] or email
