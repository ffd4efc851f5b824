"""Java: modifiers give the flags; `static final` fields are constants."""

from __future__ import annotations

from typing import Any

import tree_sitter_java
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, squash, text


def _modifiers(node: Node, src: bytes) -> list[str]:
    for child in node.children:
        if child.type == "modifiers":
            return [text(c, src) for c in child.children if c.type not in (
                "marker_annotation", "annotation", "line_comment", "block_comment")]
    return []


class Java(Syntax):
    name = "java"
    extensions: tuple[str, ...] = (".java",)
    query = "java"
    attribute_types = frozenset({"marker_annotation", "annotation"})

    def grammar(self) -> Any:
        return tree_sitter_java.language()

    def refine_kind(self, kind: str, node: Node, src: bytes) -> str | None:
        if kind == "field" and node.parent is not None:
            mods = _modifiers(node.parent, src)
            if "static" in mods and "final" in mods:
                return "constant"
        return kind

    def docstring(self, node: Node, src: bytes) -> str | None:
        if node.type == "variable_declarator" and node.parent is not None:
            node = node.parent
        return super().docstring(node, src)

    def return_type(self, fn: Node, src: bytes) -> str | None:
        node = fn.child_by_field_name("type")
        return squash(text(node, src)) or None if node else None

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        mods = _modifiers(node, src)
        return {"async": False, "public": "public" in mods, "static": "static" in mods}

    def decorators(self, node: Node, src: bytes) -> list[str]:
        for child in node.children:
            if child.type == "modifiers":
                return [text(c, src).lstrip("@") for c in child.named_children
                        if c.type in ("marker_annotation", "annotation")]
        return []

    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]:
        path = next((c for c in node.named_children
                     if c.type in ("scoped_identifier", "identifier")), None)
        if path is None:
            return []
        full = text(path, src)
        if any(c.type == "asterisk" for c in node.named_children):
            return [{"module": full, "names": ["*"], "alias": None}]
        module, _, name = full.rpartition(".")
        return [{"module": module, "names": [name], "alias": None}]


LANGUAGES = [Java()]
