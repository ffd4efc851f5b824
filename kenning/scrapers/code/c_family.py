"""C and C++: declarators hold the name and parameters; `static` means file-local."""

from __future__ import annotations

from typing import Any

import tree_sitter_c
import tree_sitter_cpp
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, squash, text

_DECLARATORS = frozenset({"pointer_declarator", "reference_declarator", "function_declarator",
                          "parenthesized_declarator"})


def _function_declarator(fn: Node) -> Node | None:
    node = fn.child_by_field_name("declarator")
    while node is not None and node.type in _DECLARATORS:
        if node.type == "function_declarator":
            return node
        node = node.child_by_field_name("declarator") or (
            node.named_children[-1] if node.named_child_count else None)
    return None


class C(Syntax):
    name = "c"
    extensions: tuple[str, ...] = (".c", ".h")
    query = "c"
    wrappers = frozenset({"template_declaration"})

    def grammar(self) -> Any:
        return tree_sitter_c.language()

    def parameters(self, fn: Node) -> Node | None:
        declarator = _function_declarator(fn)
        return declarator.child_by_field_name("parameters") if declarator else None

    def return_type(self, fn: Node, src: bytes) -> str | None:
        node = fn.child_by_field_name("type")
        if node is None:
            return None
        stars = ""
        declarator = fn.child_by_field_name("declarator")
        while declarator is not None and declarator.type in ("pointer_declarator",
                                                             "reference_declarator"):
            stars += "*" if declarator.type == "pointer_declarator" else "&"
            declarator = declarator.child_by_field_name("declarator") or (
                declarator.named_children[-1] if declarator.named_child_count else None)
        return squash(text(node, src)) + stars

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        storage = {text(c, src) for c in node.children if c.type == "storage_class_specifier"}
        return {"async": False, "public": "static" not in storage or in_type,
                "static": "static" in storage}

    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]:
        if node.type == "using_declaration":
            target = node.named_children[-1] if node.named_child_count else None
            return [{"module": squash(text(target, src)), "names": [], "alias": None}]
        return super().imports(node, caps, src)


class Cpp(C):
    name = "cpp"
    extensions: tuple[str, ...] = (".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx",
                                   ".h++", ".ipp")
    query = "cpp"

    def grammar(self) -> Any:
        return tree_sitter_cpp.language()


LANGUAGES = [C(), Cpp()]
