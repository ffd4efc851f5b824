"""The code of a file outside its definitions, cut into chunks (`code.chunk` facts).

Definitions are documents of their own (code.function, code.type); everything
else a file holds (a module docstring, imports, top-level statements,
`const schema = z.object(...)`, macros, re-exports, and the lines of a class or
a function past what its own document shows: its body excerpt's EXCERPT_LINES
lines or EXCERPT_CHARS characters) goes into chunks, so every line of a source
file that holds a word is in some searchable document.

A chunk spans at most CHUNK_LINES lines and holds at most CHUNK_CHARS
characters of text. It may reach over a definition that lies within that span
(the definition's lines are left out of its text): a decorator line between two
methods then joins its neighbours instead of making a document of one line.
Lines of punctuation alone (`}`, `});`) make no chunk on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CHUNK_LINES = 50
CHUNK_CHARS = 1500
WORDY = re.compile(r"[^\W_]")  # a letter or a digit


@dataclass(frozen=True)
class Chunk:
    start_line: int  # 1-based, inclusive: the first and last line of code it holds
    end_line: int
    text: str


def chunks(lines: list[str], covered: Iterable[tuple[int, int]]) -> list[Chunk]:
    """Chunks of the lines (a file split on "\\n") outside the `covered` spans
    (1-based, inclusive: the definitions), in line order."""
    taken = bytearray(len(lines) + 2)
    for start, end in covered:
        start, end = max(start, 1), min(end, len(lines))
        if start <= end:
            taken[start:end + 1] = b"\x01" * (end - start + 1)
    out: list[Chunk] = []
    first = last = 0  # the open chunk's first and last line of code (0: none open)
    size = 0
    for number, line in enumerate(lines, 1):
        if taken[number] or not line.strip():
            continue
        if first and (number - first >= CHUNK_LINES or size + len(line) + 1 > CHUNK_CHARS):
            add_chunk(out, lines, first, last, taken)
            first = 0
        if not first:
            first, size = number, 0
        last = number
        size += len(line.rstrip()) + 1
    if first:
        add_chunk(out, lines, first, last, taken)
    return out


def add_chunk(out: list[Chunk], lines: list[str], first: int, last: int,
              taken: bytearray | None = None) -> None:
    """Append the chunk of lines `first`..`last` (1-based, inclusive) less the `taken`
    ones, runs of blank lines squeezed to one; nothing when no word is left."""
    kept: list[str] = []
    for number in range(first, last + 1):
        if taken is not None and taken[number]:
            continue
        line = lines[number - 1].rstrip()
        if line or (kept and kept[-1]):  # one blank line where the file has one or more
            kept.append(line)
    text = "\n".join(kept)[:CHUNK_CHARS]
    if WORDY.search(text):
        out.append(Chunk(first, last, text))
