"""`.gitattributes`: files marked linguist-vendored, -generated or -documentation.

Read from the `.gitattributes` blobs in the tree at the target commit, as git
evaluates them, by a small parser of git's rules (git 2.39 has no
`check-attr --source`, and `check-attr` would also read the user's own
attribute files, which must not change the eventlog, I5):

- a line is a pattern and attributes (`name`, `-name`, `name=value`, `!name`);
  `#` comments and `[attr]` macro definitions are skipped;
- a pattern without a slash matches the file name at any depth below its
  `.gitattributes`; one with a slash matches the path relative to it (a leading
  slash only anchors); `*` and `?` stop at slashes, `**/`, `/**/` and `/**`
  cross them; a pattern ending in a slash names directories, which never match
  a file (attributes are not inherited from directories);
- deeper `.gitattributes` files override shallower ones, later lines earlier.

As GitHub's linguist reads them, an attribute that is set or has any value but
"false" marks the file; `-name` or `name=false` clears it.

A `.gitattributes` blob this clone lacks is read as empty (never fetched).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# attribute -> skip reason, in the order a file marked twice reports them
LINGUIST = {"linguist-vendored": "vendored", "linguist-generated": "generated",
            "linguist-documentation": "documentation"}
NAME = ".gitattributes"


@dataclass(frozen=True)
class _Rule:
    base: str  # the directory of its .gitattributes, "" or ending in "/"
    pattern: re.Pattern[str]
    basename: bool  # a pattern without a slash: matched against the file name
    states: tuple[tuple[str, bool | None], ...]  # attribute -> marks / clears / unspecified


class Attributes:
    """The linguist attributes of the `.gitattributes` files of one tree."""

    def __init__(self, files: dict[str, bytes]) -> None:
        """`files`: the path of each .gitattributes -> its contents."""
        # shallower files first, so deeper ones (read later) override them
        order = sorted(files, key=lambda p: (p.count("/"), p))
        self._rules = [rule for path in order
                       for rule in _parse(path[:-len(NAME)], files[path])]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def reason(self, path: str) -> str | None:
        """Why `path` is skipped (vendored, generated, documentation), or None."""
        if not self._rules:
            return None
        state: dict[str, bool | None] = {}
        name = path.rsplit("/", 1)[-1]
        for rule in self._rules:
            if not path.startswith(rule.base):
                continue
            subject = name if rule.basename else path[len(rule.base):]
            if rule.pattern.fullmatch(subject):
                state.update(rule.states)
        for attribute, reason in LINGUIST.items():
            if state.get(attribute):
                return reason
        return None


def attribute_files(paths: Iterable[str]) -> list[str]:
    return [p for p in paths if p == NAME or p.endswith("/" + NAME)]


def _parse(base: str, data: bytes) -> list[_Rule]:
    rules = []
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, rest = _pattern(line)
        if pattern is None or pattern.startswith("[attr]"):
            continue
        states = _states(rest.split())
        if not states or pattern.endswith("/"):  # nothing of ours, or directories only
            continue
        basename = "/" not in pattern
        pattern = pattern.removeprefix("/")
        if not pattern:
            continue
        rules.append(_Rule(base, re.compile(_regex(pattern)), basename, states))
    return rules


def _pattern(line: str) -> tuple[str | None, str]:
    """The pattern (a C-style quoted one unquoted) and the rest of the line."""
    if not line.startswith('"'):
        pattern, *rest = line.split(None, 1)
        return pattern, rest[0] if rest else ""
    out: list[str] = []
    i = 1
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    while i < len(line):
        c = line[i]
        if c == '"':
            return "".join(out), line[i + 1:]
        if c == "\\" and i + 1 < len(line):
            i += 1
            out.append(escapes.get(line[i], line[i]))
        else:
            out.append(c)
        i += 1
    return None, ""  # no closing quote: git ignores the line


def _states(tokens: list[str]) -> tuple[tuple[str, bool | None], ...]:
    states: list[tuple[str, bool | None]] = []
    for token in tokens:
        if token.startswith("-"):
            name, value = token[1:], False
        elif token.startswith("!"):
            name, value = token[1:], None
        elif "=" in token:
            name, _, setting = token.partition("=")
            value = setting != "false"
        else:
            name, value = token, True
        if name in LINGUIST:
            states.append((name, value))
    return tuple(states)


def _regex(pattern: str) -> str:
    """git's wildmatch with WM_PATHNAME as a regular expression."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            double = j - i >= 2
            at_start = i == 0 or pattern[i - 1] == "/"
            at_end = j == n or pattern[j] == "/"
            if double and at_start and at_end:
                if j == n:  # "x/**": everything inside; "**" alone: everything
                    out.append(".*")
                else:  # "**/": zero or more directories
                    out.append("(?:.*/)?")
                    j += 1
            else:
                out.append("[^/]*")
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = _class_end(pattern, i)
            if end is None:
                out.append(re.escape(c))
                i += 1
            else:
                out.append(_class(pattern[i + 1:end]))
                i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int | None:
    i = start + 1
    if i < len(pattern) and pattern[i] in "!^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":  # a leading "]" is a member
        i += 1
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[" and pattern[i + 1:i + 2] == ":":
            close = pattern.find(":]", i + 2)
            if close != -1:
                i = close + 2
                continue
        if pattern[i] == "]":
            return i
        i += 1
    return None


_POSIX = {"alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "digit": "0-9", "lower": "a-z",
          "upper": "A-Z", "space": " \\t\\n\\r\\f\\v", "xdigit": "0-9a-fA-F",
          "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), "blank": " \\t"}


def _class(body: str) -> str:
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    parts: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "[" and body[i + 1:i + 2] == ":":
            close = body.find(":]", i + 2)
            parts.append(_POSIX.get(body[i + 2:close], ""))
            i = close + 2
        elif c == "\\" and i + 1 < len(body):
            parts.append(re.escape(body[i + 1]))
            i += 2
        elif c == "-" and parts and i + 1 < len(body):
            parts.append("-")
            i += 1
        else:
            parts.append(re.escape(c))
            i += 1
    members = "".join(parts)
    return f"[^/{members}]" if negate else f"(?!/)[{members}]"
