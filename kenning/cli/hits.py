"""Search hits on screen and in pipes: a table that fits the terminal, plain lines, TSV.

A location (`path:line`, a session note's `path:line`, a commit's sha) is never
split or shortened, so it can be clicked or pasted; the snippet gives way
instead. Nothing is padded at the end of a line. Under a hit, the table says why
it is there: the history that names a file (`via: commit abc1234 'subject'`),
the near-identical items folded into it, and with --explain every step.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from kenning.scry.search import Result

FORMATS = ("table", "plain", "tsv", "json")
_MIN_SNIPPET = 24  # narrower than this, the snippet goes on a line of its own
_GAP = "  "


@dataclass(frozen=True)
class Row:
    kind: str  # decision, commit, function, ...
    time: str  # YYYY-MM-DD
    where: str  # where to look: path:line, or a commit's short sha
    more: tuple[str, ...]  # further locations: the files a commit or note concerns
    snippet: str
    score: str
    arms: tuple[str, ...] = ()  # --explain: each arm's rank and score
    why: tuple[str, ...] = ()  # lines under the hit: evidence, grouped items, --explain


ARMS = ("lexical", "semantic")


def kind_label(result: Result) -> str:
    """What a person calls the hit: a session item by its kind (decision, challenge, ...)."""
    if result.kind == "commit":
        return "commit"
    return result.event_type.rsplit(".", 1)[-1]


def to_row(result: Result, explain: bool = False) -> Row:
    if result.kind == "commit":
        where, more = result.source[:10], tuple(result.paths)
    elif result.kind == "code":
        where, more = result.source, ()
    else:
        where, more = result.source, tuple(p for p in result.paths
                                           if p != result.source.rsplit(":", 1)[0])
    arms: tuple[str, ...] = ()
    if explain:
        arms = tuple(f"#{result.arms[a][0]} {result.arms[a][1]:.3g}" if a in result.arms
                     else "-" for a in ARMS)
    why: list[str] = []
    reason = result.reason()
    if reason:
        why.append(reason)
    if result.grouped:
        shown = ", ".join(g["source"][:7] if g["kind"] == "commit" else g["source"]
                          for g in result.grouped[:3])
        extra = f" +{len(result.grouped) - 3}" if len(result.grouped) > 3 else ""
        why.append(f"+{len(result.grouped)} near-identical: {shown}{extra}")
    if explain:
        why.extend(f"why: {step}" for step in result.steps)
    return Row(kind_label(result), result.timestamp[:10], where, more, result.snippet,
               f"{result.score:.4g}", arms, tuple(why))


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text[:width - 1]
    space = cut.rfind(" ")
    if text[width - 1] != " " and space >= width // 2:  # drop the word cut in two
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def table(rows: Sequence[Row], width: int | None) -> list[str]:
    """Hits fitted to `width` columns (None: no limit) by shortening only the snippet.

    Wide enough: one line per hit, `# kind time where score snippet`. Otherwise the
    location goes last on the hit's first line (never padded, never split) and the
    snippet gets a line of its own. A commit's or note's files follow, one per line."""
    if not rows:
        return []
    explain = ARMS if rows[0].arms else ()
    lead = [("#", [str(i) for i in range(1, len(rows) + 1)], "<"),
            ("kind", [r.kind for r in rows], "<"),
            ("time", [r.time for r in rows], "<")]
    where = ("where", [r.where for r in rows], "<")
    tail = [("score", [r.score for r in rows], ">"),
            *((arm, [r.arms[i] for r in rows], ">") for i, arm in enumerate(explain))]
    wide = [*lead, where, *tail]
    widths = [max(len(title), *(len(v) for v in values)) for title, values, _ in wide]
    room = None if width is None else width - sum(widths) - len(_GAP) * len(wide)
    stacked = room is not None and room < _MIN_SNIPPET
    columns = [*lead, *tail, where] if stacked else wide
    widths = [max(len(title), *(len(v) for v in values)) for title, values, _ in columns]
    # continuation lines (the snippet when stacked, files) line up under `where`; a narrow
    # terminal gets a small indent instead
    indent = " " * (4 if stacked else sum(widths[:3]) + 3 * len(_GAP))

    def line(cells: list[str], snippet: str) -> str:
        parts = [f"{c:{align}{w}}" for c, w, (_, _, align) in zip(cells, widths, columns,
                                                                   strict=True)]
        if stacked:
            parts[-1] = cells[-1]  # the location, last and unpadded
        return _GAP.join([*parts, snippet]).rstrip()

    lines = [line([title for title, _, _ in columns], "" if stacked else "snippet")]
    for i, r in enumerate(rows):
        cells = [values[i] for _, values, _ in columns]
        if stacked:
            lines.append(line(cells, ""))
            own = None if width is None else max(width - len(indent), 8)
            lines.append(indent + (r.snippet if own is None else shorten(r.snippet, own)))
        else:
            lines.append(line(cells, r.snippet if room is None else shorten(r.snippet, room)))
        lines.extend(indent + path for path in r.more[:3])
        if len(r.more) > 3:
            lines.append(f"{indent}+{len(r.more) - 3} more")
        for line_text in r.why:  # a location inside stays whole; long titles give way
            own = None if width is None else max(width - len(indent), 8)
            lines.append(indent + (line_text if own is None else shorten(line_text, own)))
    return lines


def plain(rows: Sequence[Row]) -> list[str]:
    """One hit per line, `where  kind  time  snippet`, as grep and ripgrep print."""
    return [_GAP.join([r.where, r.kind, r.time, " ".join(r.snippet.split())]) for r in rows]


def tsv(rows: Sequence[Row]) -> list[str]:
    """Tab-separated with a header; tabs and newlines inside a field become spaces."""
    def clean(text: str) -> str:
        return " ".join(text.split())

    out = ["rank\tkind\ttime\twhere\tpaths\tscore\tsnippet"]
    for i, r in enumerate(rows, 1):
        out.append("\t".join([str(i), r.kind, r.time, clean(r.where), clean(",".join(r.more)),
                              r.score, clean(r.snippet)]))
    return out


def terminal_width(is_terminal: bool, width: int) -> int | None:
    """The width to fit a table to: the terminal's, or $COLUMNS, or none in a pipe."""
    if is_terminal:
        return width
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None
