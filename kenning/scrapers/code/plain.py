"""Files kenning has no grammar for, read as plain text (`code.chunk` facts only).

Source in other languages (a Swift, Elixir or Kotlin file) and documentation
(markdown, reStructuredText, plain text, AsciiDoc) yield no definitions, but
each of their lines is in some searchable document all the same: the file is
cut into windows of at most CHUNK_LINES lines and CHUNK_CHARS characters,
preferably right before a heading (documentation: a window then holds whole
sections, several small ones or the start of a long one), else right after a
blank line (between two declarations more often than not). Like the chunks of
a parsed file, a window's text has one blank line where the file has several,
and a window without a letter or a digit makes no document.

The extension tables are fixed (a language's name is the chunks' `language`);
an extension a grammar reads, or the recipe maps to one, is never read here.
"""

from __future__ import annotations

import re

from kenning.scrapers.code.chunks import CHUNK_CHARS, CHUNK_LINES, Chunk, add_chunk

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


# documentation: README, docs/*.rst, CHANGES.rst (never a session note: see the scraper)
DOCS = {".md": "markdown", ".markdown": "markdown", ".rst": "restructuredtext",
        ".txt": "text", ".adoc": "asciidoc", ".asciidoc": "asciidoc"}
DOC_LANGUAGES = frozenset(DOCS.values())
DOC_MAX_BYTES = 256 * 1024  # a larger documentation file is skipped ("size")

PLAIN = {**SOURCE, **DOCS}  # extension -> language of every file read as plain text
_PLAIN_NAMES = frozenset(PLAIN.values())


def is_plain(language: str) -> bool:
    return language in _PLAIN_NAMES


def windows(lines: list[str], language: str = "") -> list[Chunk]:
    """The file's lines (split on "\\n") as chunks in line order: each from a line
    that holds something to the last such line before its cut."""
    heads = headings(lines, language)
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
            end = _cut(lines, start, end, heads)
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


def _cut(lines: list[str], start: int, end: int, heads: set[int]) -> int:
    """Where a window from `start` that may reach `end` ends: before the last heading
    in it or right after it, else before the last blank line, else at `end`."""
    last = min(end + 1, len(lines))
    for number in range(last, start, -1):
        if number in heads:
            return number - 1
    for number in range(last, start, -1):
        if not lines[number - 1].strip():
            return number - 1
    return end


# -- headings ------------------------------------------------------------------------

_FENCE = re.compile(r" {0,3}(```|~~~)")
_ATX = re.compile(r" {0,3}#{1,6}(\s|$)")
_SETEXT = re.compile(r" {0,3}(=+|-+)\s*$")
_RST_ADORNMENT = re.compile(r"""([!-/:-@\[-`{-~])\1{2,}\s*$""")  # ===, ---, ~~~, ^^^ ...
_ADOC = re.compile(r"={1,6} \S")


def headings(lines: list[str], language: str) -> set[int]:
    """The lines (1-based) where a heading starts, which a window prefers to start at."""
    if language == "markdown":
        return _markdown_headings(lines)
    if language == "restructuredtext":
        return _rst_headings(lines)
    if language == "asciidoc":
        return {n for n, line in enumerate(lines, 1) if _ADOC.match(line)}
    return set()


def _markdown_headings(lines: list[str]) -> set[int]:
    """`# Title` and a text line underlined with `===` or `---`, outside code fences."""
    found: set[int] = set()
    fenced = False
    for n, line in enumerate(lines, 1):
        if _FENCE.match(line):
            fenced = not fenced
        elif fenced:
            continue
        elif _ATX.match(line):
            found.add(n)
        elif n > 1 and _SETEXT.match(line) and lines[n - 2].strip() \
                and not _ATX.match(lines[n - 2]) and n - 1 not in found:
            found.add(n - 1)
    return found


def _rst_headings(lines: list[str]) -> set[int]:
    """A title underlined (and maybe overlined) with one punctuation character
    repeated at least as long as the title, at the margin unless overlined: it
    starts at its overline."""
    found: set[int] = set()
    for n in range(2, len(lines) + 1):
        under, title = lines[n - 1].rstrip(), lines[n - 2].rstrip()
        if not _RST_ADORNMENT.match(under) or not title.strip() \
                or _RST_ADORNMENT.match(title) or len(under) < len(title):
            continue
        overlined = n >= 3 and lines[n - 3].rstrip() == under
        if overlined:
            found.add(n - 2)
        elif not title[0].isspace():
            found.add(n - 1)
    return found


def _emit(out: list[Chunk], lines: list[str], start: int, end: int) -> None:
    while end > start and not lines[end - 1].strip():
        end -= 1
    add_chunk(out, lines, start, end)
