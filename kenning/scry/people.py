"""Who knows a topic: the experts of the files that answer a question.

`experts_for(conn, files)` ranks people by their expertise in the given files,
each file weighted by how well it answers the question (its share of the
answer). scry calls it for a question about people ("who knows ...").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import apsw


@dataclass
class Person:
    name: str
    author: str  # the e-mail address that identifies them in the history
    score: float
    files: list[str] = field(default_factory=list)  # their files among the answer's, best first

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "author": self.author, "score": round(self.score, 6),
                "files": self.files}


def experts_for(conn: apsw.Connection, files: Sequence[tuple[str, float]],
                limit: int = 10) -> list[Person]:
    """People ranked by expertise over `files` ((path, weight) pairs, best first)."""
    return []
