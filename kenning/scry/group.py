"""History (commits, session items): grouped near-duplicates, and evidence for files.

- Commits that say the same thing share one slot: the same subject (cherry-picks,
  sibling commits, a revert's revert aside), and a merge whose message is a pull
  request's title with the commit of that title it brings in.
- Session items of one block of one note (same note, same block time: a block's
  items all carry its time) share one slot.
- Evidence: every history document that matches the question lends its fused score
  to the files it names, split evenly among them (a one-file commit says more about
  its file than a sweeping one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

_MERGE = re.compile(r"^merge (?:pull request|branch|remote-tracking branch|tag)\b", re.I)
_PR_SUFFIX = re.compile(r"\s*\((?:#|!)\d+\)\s*$")


@dataclass
class HistoryDoc:
    doc_id: int
    event_id: str
    kind: str  # commit, session
    event_type: str
    timestamp: str
    source: str
    author: str | None
    paths: list[str]
    title: str
    body: str
    arms: dict[str, tuple[int, float]] = field(default_factory=dict)
    score: float = 0.0

    def brief(self) -> dict[str, Any]:
        """What a result says about this item when it is evidence or a grouped member."""
        return {"kind": self.kind, "event_type": self.event_type, "time": self.timestamp,
                "source": self.source, "title": self.title, "event_id": self.event_id,
                "score": round(self.score, 6)}

    def reason(self) -> str:
        """A short 'why': `commit abc1234 'subject'` or `decision notes/x.md:12 'text'`."""
        label = "commit" if self.kind == "commit" else self.event_type.rsplit(".", 1)[-1]
        where = self.source[:7] if self.kind == "commit" else self.source
        title = self.title if len(self.title) <= 60 else self.title[:59].rstrip() + "…"
        return f"{label} {where} {title!r}"


def group_key(doc: HistoryDoc) -> tuple[str, ...]:
    if doc.kind == "session":
        note = doc.source.rsplit(":", 1)[0]
        return ("session", note, doc.timestamp)
    subject = doc.title
    if _MERGE.match(subject):  # a pull request's title is the first line of its body
        lines = [line.strip() for line in doc.body.splitlines()[1:] if line.strip()]
        subject = lines[0] if lines else subject
    subject = _PR_SUFFIX.sub("", " ".join(subject.lower().split()))
    return ("commit", subject)


def group(docs: Sequence[HistoryDoc]) -> list[list[HistoryDoc]]:
    """Groups of near-duplicates, each best first, in order of their best member
    (`docs` must be best first)."""
    groups: dict[tuple[str, ...], list[HistoryDoc]] = {}
    for doc in docs:
        groups.setdefault(group_key(doc), []).append(doc)
    return list(groups.values())


def evidence(docs: Iterable[HistoryDoc], known: set[str]
             ) -> tuple[dict[str, float], dict[str, list[HistoryDoc]]]:
    """Per file among `known` (files with code documents): the summed share of the
    history documents that name it, and those documents best first."""
    sums: dict[str, float] = {}
    named: dict[str, list[HistoryDoc]] = {}
    for doc in docs:
        files = [p for p in doc.paths if p in known]
        if not files or doc.score <= 0:
            continue
        share = doc.score / len(files)
        for path in files:
            sums[path] = sums.get(path, 0.0) + share
            named.setdefault(path, []).append(doc)
    for items in named.values():
        items.sort(key=lambda d: (-d.score, d.event_id))
    return sums, named
