"""What every language must provide, and the registry that maps extensions to languages.

A language is a grammar, a query file (`queries/<query>.scm`) whose captures
name the facts, and a handful of small hooks for what the query cannot say
(doc comments, flags, import shapes). `Syntax` holds the defaults that fit the
C-like languages; each language family module subclasses it.

Query capture names:
  @def.<kind> + @name   a definition; kind is function, class, struct, enum, trait,
                        interface, union, module, alias (types), namespace, impl
                        (containers only), constant or field. An optional
                        @qualifier names its container when it is written apart
                        (a Go receiver).
  @import + @import.module / @import.name / @import.alias
  @call (+ @call.name when the callee is not the text before its arguments)
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol

from tree_sitter import Node

# family module -> the languages it defines
_FAMILIES = ("python", "rust", "javascript", "go", "java", "c_family", "scripting", "csharp",
             "php")


class Language(Protocol):
    name: str
    extensions: tuple[str, ...]
    query: str  # file name under queries/, without .scm
    comment_types: frozenset[str]
    attribute_types: frozenset[str]  # attributes inside a definition's node (not its signature)
    skip_before_doc: frozenset[str]  # nodes between a doc comment and its definition
    docstring_in_body: bool  # Python: the docstring is the body's first statement

    def grammar(self) -> Any: ...
    def outer(self, node: Node) -> Node: ...
    def is_doc_comment(self, comment: str) -> bool: ...
    def refine_kind(self, kind: str, node: Node, src: bytes) -> str | None: ...
    def function_node(self, node: Node) -> Node: ...
    def parameters(self, fn: Node) -> Node | None: ...
    def parameter_texts(self, params: Node, src: bytes) -> list[str]: ...
    def constant_value(self, node: Node) -> Node | None: ...
    def body(self, node: Node) -> Node | None: ...
    def return_type(self, fn: Node, src: bytes) -> str | None: ...
    def docstring(self, node: Node, src: bytes) -> str | None: ...
    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]: ...
    def decorators(self, node: Node, src: bytes) -> list[str]: ...
    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]: ...
    def callee(self, node: Node, caps: dict[str, list[Node]], src: bytes) -> str: ...


def text(node: Node | None, src: bytes) -> str:
    if node is None:
        return ""
    return src[node.start_byte:node.end_byte].decode("utf-8", "replace")


def squash(value: str, limit: int = 400) -> str:
    """One line, single spaces, at most `limit` characters."""
    return " ".join(value.split())[:limit]


def unquote(value: str) -> str:
    return value.strip().strip("\"'`<>")


_COMMENT_MARKS = re.compile(r"^\s*(///?!?|/\*\*?|\*/|\*|#!?|--)\s?")


def clean_comment(lines: Iterable[str]) -> str:
    out = []
    for raw in lines:
        for line in raw.splitlines():
            line = line.rstrip()
            if line.endswith("*/"):
                line = line[:-2].rstrip()
            out.append(_COMMENT_MARKS.sub("", line, count=1).rstrip())
    return "\n".join(out).strip()


class Syntax:
    """Defaults shared by most grammars; families override what differs."""

    name = ""
    extensions: tuple[str, ...] = ()
    query = ""
    comment_types: frozenset[str] = frozenset({"comment", "line_comment", "block_comment"})
    skip_before_doc: frozenset[str] = frozenset()  # e.g. Rust attributes between doc and item
    attribute_types: frozenset[str] = frozenset()  # e.g. Java annotations: kept out of signatures
    wrappers: frozenset[str] = frozenset()  # nodes whose comments document their child
    docstring_in_body = False

    def grammar(self) -> Any:
        raise NotImplementedError

    def refine_kind(self, kind: str, node: Node, src: bytes) -> str | None:
        return kind

    def function_node(self, node: Node) -> Node:
        return node

    def parameters(self, fn: Node) -> Node | None:
        return fn.child_by_field_name("parameters")

    def parameter_texts(self, params: Node, src: bytes) -> list[str]:
        """Each parameter as written, on one line."""
        return [" ".join(src[p.start_byte:p.end_byte].decode("utf-8", "replace").split())[:200]
                for p in params.named_children if p.type not in self.comment_types]

    def body(self, node: Node) -> Node | None:
        return node.child_by_field_name("body")

    def constant_value(self, node: Node) -> Node | None:
        value = node.child_by_field_name("value") or node.child_by_field_name("right")
        if value is not None:
            return value
        declarator = node.child_by_field_name("declarator")  # C++ `constexpr int k = 4;`
        if declarator is not None:
            return declarator.child_by_field_name("value")
        children = node.children  # C#, PHP: `X = v` with no field name: what follows "="
        for before, after in zip(children, children[1:], strict=False):
            if before.type == "=":
                return after
        return None

    def return_type(self, fn: Node, src: bytes) -> str | None:
        node = fn.child_by_field_name("return_type")
        return squash(text(node, src).lstrip(":").strip()) or None if node else None

    def outer(self, node: Node) -> Node:
        while node.parent is not None and node.parent.type in self.wrappers:
            node = node.parent
        return node

    def is_doc_comment(self, comment: str) -> bool:
        return True

    def docstring(self, node: Node, src: bytes) -> str | None:
        node = self.outer(node)
        row = node.start_point[0]
        found: list[str] = []
        prev = node.prev_named_sibling
        while prev is not None:
            if prev.type in self.skip_before_doc:
                row = prev.start_point[0]
            elif prev.type in self.comment_types and row - prev.end_point[0] <= 1:
                comment = text(prev, src)
                if not self.is_doc_comment(comment):
                    break
                found.append(comment)
                row = prev.start_point[0]
            else:
                break
            prev = prev.prev_named_sibling
        return clean_comment(reversed(found)) or None if found else None

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        return {"async": False, "public": True, "static": False}

    def decorators(self, node: Node, src: bytes) -> list[str]:
        return []

    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]:
        module = caps.get("import.module")
        alias = caps.get("import.alias")
        return [{
            "module": unquote(text(module[0], src)) if module else "",
            "names": [text(n, src) for n in caps.get("import.name", [])],
            "alias": text(alias[0], src) if alias else None,
        }]

    def callee(self, node: Node, caps: dict[str, list[Node]], src: bytes) -> str:
        named = caps.get("call.name")
        if named:
            return squash(text(named[0], src), 160)
        args = node.child_by_field_name("arguments")
        end = args.start_byte if args is not None else node.end_byte
        return squash(src[node.start_byte:end].decode("utf-8", "replace"), 160)


def child_types(node: Node) -> set[str]:
    return {c.type for c in node.children}


@cache
def registry() -> dict[str, Language]:
    """Every language, by name."""
    languages: dict[str, Language] = {}
    for family in _FAMILIES:
        module = importlib.import_module(f"kenning.scrapers.code.{family}")
        for language in module.LANGUAGES:
            languages[language.name] = language
    return languages


def extension_map(extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """File extension (lower case, with the dot) -> language name."""
    mapping = {ext: lang.name for lang in registry().values() for ext in lang.extensions}
    for ext, name in extra:
        if name not in registry():
            raise ValueError(f"unknown language {name!r} for {ext!r}")
        mapping[ext.lower() if ext.startswith(".") else "." + ext.lower()] = name
    return mapping


def language_of(path: str, extensions: dict[str, str]) -> str | None:
    base = path.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    if dot <= 0:
        return None
    return extensions.get(base[dot:].lower())
