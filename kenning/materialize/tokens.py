"""Words for search: what the index stores and what a query asks for, split alike.

FTS5's tokenizer (`porter unicode61`, see the fts materializer) lower-cases,
splits on anything but letters and digits (so `spawn_entity` is already two
words) and stems ("routes", "routing" -> "rout"). What it cannot do is split
`SpawnEntity` or see a file's name as words; these helpers add those words to
the indexed text, and cut a query the same way.
"""

from __future__ import annotations

import re

MAX_TERMS = 32  # search words kept per query
_WORD = re.compile(r"[^\W_]+(?:_[^\W_]+)*|[^\W_]+", re.UNICODE)
_IDENT = re.compile(r"[^\W\d_][\w]*")
CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_NAME_PIECE = re.compile(r"[^\W_]+", re.UNICODE)  # a path component cut on . _ - and friends
_PATH_DIRS = 3  # the directories nearest the file name say what it is about
_STOP = """a about after all also an and any are as at be been before but by can could did do
does for from had has have how i if in into is it its just me more most my no not of off on or our
out over should so some such than that the their them then there these they this those to too
under up us was we were what when where which who why will with would you your"""
STOPWORDS = frozenset(_STOP.split())


def split_identifier(word: str) -> str:
    """`SpawnEntity` and `spawn_entity` -> "spawn entity" (lower case)."""
    parts = [p for chunk in word.split("_") for p in CAMEL.findall(chunk)]
    return " ".join(p.lower() for p in parts) if parts else word.lower()


def index_text(title: str, body: str) -> str:
    """Title and body, then every camelCase identifier split into words (the
    tokenizer already splits snake_case on the underscore)."""
    extra: dict[str, None] = {}
    for word in dict.fromkeys(_IDENT.findall(title + "\n" + body)):
        if word[1:] == word[1:].lower() or word == word.upper():
            continue  # no inner capital, or all capitals: nothing to split
        extra.setdefault(split_identifier(word), None)
    return "\n".join([title, body, *extra]) if extra else title + "\n" + body


def _name_words(name: str) -> list[str]:
    """A path component as search words: each piece between separators, and a
    camelCase piece also as its parts ("methodRouter" -> methodrouter method router)."""
    words: list[str] = []
    for piece in _NAME_PIECE.findall(name):
        words.append(piece.lower())
        split = split_identifier(piece)
        if split != piece.lower():
            words.append(split)
    return words


def path_text(path: str) -> str:
    """The searchable words of a file's path: its stem twice (a file named for the
    question is the likeliest answer), then the last three directory names.

    "src/axum/routing/method_routing.rs" -> "method routing method routing routing axum src"
    (the extension is left out: it names the language, which questions rarely do).
    """
    parts = path.split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    words = _name_words(stem) * 2
    for directory in reversed(parts[:-1][-_PATH_DIRS:]):
        words.extend(_name_words(directory))
    return " ".join(words)


def query_terms(text: str) -> list[str]:
    """Distinct lower-case search words of `text`, identifier parts included."""
    terms: list[str] = []
    for word in _WORD.findall(text):
        parts = [word] + [p for piece in word.split("_") for p in CAMEL.findall(piece)]
        for part in parts:
            low = part.lower()
            if low and low not in STOPWORDS and low not in terms:
                terms.append(low)
    if not terms:  # a query of stop words only still means something
        terms = [w.lower() for w in _WORD.findall(text)][:MAX_TERMS]
    return terms[:MAX_TERMS]
