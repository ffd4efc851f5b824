"""What a question asks for, read from its words alone (no model).

- `intent`: "people" (who knows / owns / is the expert on X), "history" (why / when /
  who changed X, or a change told the way a commit tells it: "fix the login redirect",
  "added retry to uploads", "docs: ..." -- decisions and commits first) or "code"
  (how / where / what, or a thing named: the default, and what a code-search
  benchmark asks).
- `is_symbol_query`: the whole query is one identifier-like token (`Sinatra::Base`,
  `spawn_entity`, `HTTPServer`); such a query leans on the lexical arm and on
  definitions. A single lower-case word ("response") is not one.
- `embedded_symbols`: identifiers written inside a question in words (`safeParse`,
  `ZodType`, `spawn_entity`).
- `asked_categories`: which kinds of non-source paths (tests, examples, ...) the
  question names, so they are not pushed down.
"""

from __future__ import annotations

import re

INTENTS = ("code", "history", "people")

_PEOPLE = re.compile(
    r"\b(?:who\s+(?:knows|owns|maintains|understands|is\s+(?:the\s+)?(?:expert|owner|"
    r"maintainer)|are\s+(?:the\s+)?(?:experts|owners|maintainers)|should\s+i\s+ask|"
    r"can\s+(?:i\s+ask|help|review))|experts?\s+(?:on|in|for|of)|owners?\s+of|"
    r"maintainers?\s+of|who\s+to\s+ask)\b", re.I)
_HISTORY = re.compile(
    r"^\s*(?:why|when)\b|\b(?:why\s+(?:did|do|does|is|was|were|are|not)|when\s+(?:did|was|"
    r"were|do|does)|who\s+(?:changed|added|removed|wrote|made|introduced|broke|fixed|"
    r"decided|moved|renamed|deleted|dropped)|what\s+changed|history\s+of|decisions?\s+"
    r"(?:on|about|to)|(?:we|they)\s+decided)\b", re.I)
# a sentence that starts by naming a change (imperative or past, or a conventional-commit
# prefix) describes a change: its answer is first the commits and decisions that made it
_CHANGE = re.compile(
    r"^\s*(?:(?:add|fix|updat|remov|revert|bump|renam|refactor|mov|drop|delet|chang|improv|"
    r"implement|document|merg|replac|deprecat|upgrad|downgrad|pin|clean|simplif|introduc|"
    r"switch|disabl|enabl|allow|prevent|avoid|restor|reword|tweak|polish|rework|rewrit|"
    r"us)(?:e|es|ed|s|d|ied|ies|y|ned|ped)?\b|(?:feat|fix|docs|chore|refactor|test|"
    r"perf|build|ci|style)(?:\([^)]*\))?!?:)", re.I)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:::|\.|->|#)[A-Za-z_][A-Za-z0-9_]*)*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUALIFIER = re.compile(r"::|\.|->|#")

# words that name a path category; a question using one wants those paths too
_CATEGORY_WORDS = {
    "test": ("test", "tests", "testing", "spec", "specs", "unittest", "unittests", "pytest"),
    "example": ("example", "examples", "sample", "samples", "demo", "demos", "tutorial"),
    "benchmark": ("bench", "benches", "benchmark", "benchmarks", "perf"),
    "fixture": ("fixture", "fixtures", "mock", "mocks", "testdata"),
    "docs": ("doc", "docs", "documentation", "documented", "readme", "changelog", "guide",
             "guides"),
    "compat": ("compat", "compatibility", "legacy", "deprecated", "shim", "shims"),
    "vendored": ("vendor", "vendored", "third_party", "thirdparty"),
}


def intent(text: str) -> str:
    """"people", "history" or "code" for a question."""
    if _PEOPLE.search(text):
        return "people"
    if _HISTORY.search(text) or _CHANGE.search(text):
        return "history"
    return "code"


def topic(text: str) -> str:
    """The subject of a question about people: "who knows the CLI code" -> "the CLI code"."""
    rest = _PEOPLE.sub(" ", text)
    return " ".join(rest.split()) or text


def is_symbol_query(text: str) -> bool:
    """One identifier-like token that is qualified (`a::b`, `a.b`, `a->b`), starts with
    `_` or an upper-case letter, or has an upper-case letter or `_` after its first
    character."""
    token = text.strip().removesuffix("()")
    if not token or not _TOKEN.fullmatch(token):
        return False
    if _QUALIFIER.search(token) or token[0] == "_" or token[0].isupper():
        return True
    return any(c.isupper() or c == "_" for c in token[1:])


def symbol_names(text: str) -> list[str]:
    """The names a symbol query may define: the whole token and its last segment
    (`Sinatra::Base` -> ["Sinatra::Base", "Base"])."""
    token = text.strip().removesuffix("()")
    last = _QUALIFIER.split(token)[-1]
    return list(dict.fromkeys([token, last]))


def embedded_symbols(text: str) -> list[str]:
    """Identifiers inside a question in words: camelCase, PascalCase with an inner
    capital (`ZodType`, not `The`) or snake_case."""
    found: dict[str, None] = {}
    for word in _IDENT.findall(text):
        inner_capital = any(c.isupper() for c in word[1:]) and not word.isupper()
        snake = "_" in word.strip("_")
        if inner_capital or snake:
            found.setdefault(word, None)
    return list(found)


def asked_categories(text: str) -> frozenset[str]:
    words = {w.lower() for w in _IDENT.findall(text)}
    for w in list(words):  # spawn_test_world names "test" too
        words.update(p for p in w.split("_") if p)
    return frozenset(c for c, names in _CATEGORY_WORDS.items() if words & set(names))
