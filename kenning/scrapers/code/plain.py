"""Source files kenning has no grammar for, read as plain text (`code.chunk` facts only).

A Swift, Elixir or Kotlin file yields no definitions, but each of its lines is
in some searchable document all the same: the file is cut into windows of at
most CHUNK_LINES lines and CHUNK_CHARS characters, preferably right after a
blank line (between two declarations more often than not). Like the chunks of
a parsed file, a window's text has one blank line where the file has several,
and a window without a letter or a digit makes no document.

The extension table is fixed (a language's name is the chunks' `language`);
an extension a grammar reads, or the recipe maps to one, is never read here.
"""

from __future__ import annotations

from kenning.scrapers.code.chunks import CHUNK_CHARS, CHUNK_LINES, WORDY, Chunk

# extension (lower case) -> language: programming languages without a grammar here
SOURCE = {
    ".swift": "swift", ".ex": "elixir", ".exs": "elixir", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".lua": "lua", ".dart": "dart", ".hs": "haskell", ".ml": "ocaml",
    ".mli": "ocaml", ".clj": "clojure", ".cljs": "clojure", ".cljc": "clojure",
    ".erl": "erlang", ".hrl": "erlang", ".pl": "perl", ".pm": "perl", ".r": "r",
    ".m": "objective-c", ".mm": "objective-c", ".zig": "zig", ".jl": "julia", ".vue": "vue",
    ".svelte": "svelte", ".groovy": "groovy", ".fs": "fsharp", ".fsx": "fsharp",
    ".nim": "nim", ".cr": "crystal", ".elm": "elm", ".gleam": "gleam", ".ps1": "powershell",
}


def plain_language_of(path: str) -> str | None:
    """The language of a file read as plain text, from its extension; None: not one."""
    base = path.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    if dot <= 0:
        return None
    return SOURCE.get(base[dot:].lower())


def is_plain(language: str) -> bool:
    return language in _PLAIN_NAMES


_PLAIN_NAMES = frozenset(SOURCE.values())


def windows(lines: list[str]) -> list[Chunk]:
    """The file's lines (split on "\\n") as chunks in line order: each from a line
    that holds something to the last such line before its cut."""
    out: list[Chunk] = []
    n = len(lines)
    start = 1
    while start <= n:
        while start <= n and not lines[start - 1].strip():
            start += 1
        if start > n:
            break
        end = _fit(lines, start)
        if end < n:
            end = _cut(lines, start, end)
        _emit(out, lines, start, end)
        start = end + 1
    return out


def _fit(lines: list[str], start: int) -> int:
    """The last line of the longest window from `start` within the bounds (at least one)."""
    size = 0
    end = start
    for number in range(start, min(len(lines), start + CHUNK_LINES - 1) + 1):
        size += len(lines[number - 1].rstrip()) + 1
        if size > CHUNK_CHARS and number > start:
            break
        end = number
    return end


def _cut(lines: list[str], start: int, end: int) -> int:
    """Where a window from `start` that may reach `end` ends: before the last blank
    line in it (or right after it), else at `end`."""
    for number in range(min(end + 1, len(lines)), start, -1):
        if not lines[number - 1].strip():
            return number - 1
    return end


def _emit(out: list[Chunk], lines: list[str], start: int, end: int) -> None:
    while end > start and not lines[end - 1].strip():
        end -= 1
    kept: list[str] = []
    for number in range(start, end + 1):
        line = lines[number - 1].rstrip()
        if line or (kept and kept[-1]):  # one blank line where the file has one or more
            kept.append(line)
    text = "\n".join(kept)[:CHUNK_CHARS]
    if WORDY.search(text):
        out.append(Chunk(start, end, text))
