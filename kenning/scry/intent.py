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
- `is_open`: the words settle nothing -- "code" only because it is the default: not
  a question (how / where / what ...), not one identifier or word. A sentence like
  "release version 2.0.2" or "Started working on config support" is how a commit
  is told, yet no list of words can say so.
- `neighbours_say_history`: for an open question, the index decides: when both arms
  find its nearest documents among the commits and notes (the five best word matches
  are all history, and the best history text is far closer in meaning than any
  code), it is told the way the project's history is told, and history comes first.
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
# a sentence that starts by naming a change (imperative, past or -ing: "Fixing the
# build"; or a conventional-commit prefix) describes a change: its answer is first the
# commits and decisions that made it
_CHANGE = re.compile(
    r"^\s*(?:(?:add|fix|updat|remov|revert|bump|renam|refactor|mov|drop|delet|chang|improv|"
    r"implement|document|merg|replac|deprecat|upgrad|downgrad|pin|clean|simplif|introduc|"
    r"switch|disabl|enabl|allow|prevent|avoid|restor|reword|tweak|polish|rework|rewrit|"
    r"us)(?:e|es|ed|s|d|ied|ies|y|ned|ped|ing|ding|ping|ning|ying)?\b|"
    r"(?:feat|fix|docs|chore|refactor|test|perf|build|ci|style)(?:\([^)]*\))?!?:)", re.I)
# a question in words that asks about code: its answer is code whatever it resembles
_QUESTION = re.compile(r"^\s*(?:how|where|what|which|who|whose|is|are|does|do|can|could|"
                       r"should|show\s+me|find|list)\b", re.I)
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


# `neighbours_say_history`: the best history document's semantic score must be this many
# times the best code document's (semantic scores of documents and questions in words
# run higher for prose than for code, so a mere lead says little; a commit subject asked
# back lands far closer to commits), and this many best word matches must all be history
HISTORY_CLOSER = 1.6
HISTORY_WORDS = 5


def is_open(text: str) -> bool:
    """The words settle nothing: the intent is "code" by default only (not a question in
    words, not one identifier or one word)."""
    if intent(text) != "code" or _QUESTION.search(text) or is_symbol_query(text):
        return False
    return len(text.split()) > 1


def neighbours_say_history(lexical: dict[str, list[float]],
                           semantic: dict[str, list[float]]) -> bool:
    """Both arms' best scores per side (code, history), best first: the five best word
    matches over both sides are all history, and the best history text is at least
    HISTORY_CLOSER times as close in meaning as the best code."""
    words_code, words_history = lexical.get("code", []), lexical.get("history", [])
    if len(words_history) < HISTORY_WORDS:
        return False
    if words_code and words_history[HISTORY_WORDS - 1] <= words_code[0]:
        return False
    meaning_code, meaning_history = semantic.get("code", []), semantic.get("history", [])
    if not meaning_history or meaning_history[0] <= 0:
        return False
    return not meaning_code or meaning_history[0] >= HISTORY_CLOSER * max(meaning_code[0], 0.0)
