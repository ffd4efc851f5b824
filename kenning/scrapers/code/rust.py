"""Rust: `///` doc comments, visibility, `use` trees, impl blocks as containers."""

from __future__ import annotations

from typing import Any

import tree_sitter_rust
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, squash, text


class Rust(Syntax):
    name = "rust"
    extensions: tuple[str, ...] = (".rs",)
    query = "rust"
    skip_before_doc = frozenset({"attribute_item"})

    def grammar(self) -> Any:
        return tree_sitter_rust.language()

    def is_doc_comment(self, comment: str) -> bool:
        return comment.startswith(("///", "/**"))

    def return_type(self, fn: Node, src: bytes) -> str | None:
        node = fn.child_by_field_name("return_type")
        return squash(text(node, src)) or None if node else None

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        kinds = {c.type: c for c in node.children}
        modifiers = kinds.get("function_modifiers")
        params = node.child_by_field_name("parameters")
        has_self = params is not None and any(
            p.type == "self_parameter" for p in params.named_children)
        return {
            "async": modifiers is not None and "async" in text(modifiers, src).split(),
            "public": "visibility_modifier" in kinds,
            "static": in_type and not has_self,
        }

    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]:
        return [_use(caps["import.module"][0], src)]

    def callee(self, node: Node, caps: dict[str, list[Node]], src: bytes) -> str:
        if node.type == "macro_invocation":
            return squash(text(caps["call.name"][0], src), 160) + "!"
        return super().callee(node, caps, src)


def _use(tree: Node, src: bytes) -> dict[str, Any]:
    """`a::b::C` -> a::b [C]; `a::{x, y}` -> a [x, y]; `a::*` -> a [*]; `a as b`."""
    if tree.type == "use_as_clause":
        inner = _use(tree.child_by_field_name("path") or tree, src)
        return {**inner, "alias": text(tree.child_by_field_name("alias"), src)}
    if tree.type == "scoped_use_list":
        path = tree.child_by_field_name("path")
        items = tree.child_by_field_name("list")
        names = [squash(text(c, src)) for c in items.named_children] if items else []
        return {"module": squash(text(path, src)), "names": names, "alias": None}
    if tree.type == "use_wildcard":
        return {"module": squash(text(tree, src)).removesuffix("::*"), "names": ["*"],
                "alias": None}
    if tree.type == "scoped_identifier":
        path = tree.child_by_field_name("path")
        return {"module": squash(text(path, src)),
                "names": [text(tree.child_by_field_name("name"), src)], "alias": None}
    return {"module": squash(text(tree, src)), "names": [], "alias": None}


LANGUAGES = [Rust()]
