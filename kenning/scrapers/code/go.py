"""Go: exported means capitalised; doc comments sit above the declaration."""

from __future__ import annotations

from typing import Any

import tree_sitter_go
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, squash, text


class Go(Syntax):
    name = "go"
    extensions: tuple[str, ...] = (".go",)
    query = "go"
    wrappers = frozenset({"type_declaration", "const_declaration"})

    def grammar(self) -> Any:
        return tree_sitter_go.language()

    def refine_kind(self, kind: str, node: Node, src: bytes) -> str | None:
        if kind == "defined":
            inner = node.child_by_field_name("type")
            if inner is not None and inner.type in ("struct_type", "interface_type"):
                return None  # the struct/interface pattern names it
        return kind

    def outer(self, node: Node) -> Node:
        parent = node.parent
        if parent is not None and parent.type in self.wrappers and parent.named_child_count == 1:
            return parent
        return node

    def body(self, node: Node) -> Node | None:
        if node.type == "type_spec":
            inner = node.child_by_field_name("type")
            if inner is not None and inner.type == "struct_type":
                return next((c for c in inner.children if c.type == "field_declaration_list"),
                            None)
            return inner if inner is not None and inner.type == "interface_type" else None
        return super().body(node)

    def return_type(self, fn: Node, src: bytes) -> str | None:
        node = fn.child_by_field_name("result")
        return squash(text(node, src)) or None if node else None

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        return {"async": False, "public": name[:1].isupper(), "static": False}


LANGUAGES = [Go()]
