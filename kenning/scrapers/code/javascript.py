"""JavaScript, TypeScript and TSX: one family, two queries, three grammars."""

from __future__ import annotations

from typing import Any

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, squash, text, unquote

_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "generator_function"})


class JavaScript(Syntax):
    name = "javascript"
    extensions: tuple[str, ...] = (".js", ".mjs", ".cjs", ".jsx")
    query = "javascript"
    attribute_types = frozenset({"decorator"})
    wrappers = frozenset({"export_statement", "lexical_declaration", "variable_declaration",
                          "expression_statement"})  # the last: `a.b = function` documented

    def grammar(self) -> Any:
        return tree_sitter_javascript.language()

    def refine_kind(self, kind: str, node: Node, src: bytes) -> str | None:
        if kind == "constant":
            value = node.child_by_field_name("value")
            if value is not None and value.type in _FUNCTION_VALUES:
                return None  # a function bound to a name: the function pattern has it
            if value is not None and value.type == "call_expression" \
                    and text(value.child_by_field_name("function"), src) == "require":
                return None  # `const x = require("m")` is an import
        return kind

    def function_node(self, node: Node) -> Node:
        if node.type == "variable_declarator":
            return node.child_by_field_name("value") or node
        if node.type == "assignment_expression":
            return node.child_by_field_name("right") or node
        return node

    def body(self, node: Node) -> Node | None:
        return self.function_node(node).child_by_field_name("body")

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        fn = self.function_node(node)
        tokens = {c.type for c in fn.children}
        if in_type:
            private = any(c.type == "accessibility_modifier" and text(c, src) != "public"
                          for c in fn.children) or name.startswith("#")
            public = not private
        else:
            public = _exported(node)
        return {"async": "async" in tokens, "public": public, "static": "static" in tokens}

    def decorators(self, node: Node, src: bytes) -> list[str]:
        return [text(c, src).lstrip("@") for c in node.children if c.type == "decorator"]

    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]:
        if node.type == "call_expression":
            return [_required(node, caps, src)]
        names: list[str] = []
        alias = None
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        for part in clause.named_children if clause else []:
            if part.type == "identifier":
                names.append("default as " + text(part, src))
            elif part.type == "namespace_import":
                names.append("*")
                alias = squash(text(part, src)).rpartition(" ")[2]
            elif part.type == "named_imports":
                for spec in part.named_children:
                    if spec.type == "import_specifier":
                        names.append(squash(text(spec, src)))
        module = unquote(text(caps["import.module"][0], src))
        return [{"module": module, "names": names, "alias": alias}]


def _required(call: Node, caps: dict[str, list[Node]], src: bytes) -> dict[str, Any]:
    """`require("m")`: bound to a name (the alias), destructured (the names), or neither."""
    names: list[str] = []
    alias = None
    parent = call.parent
    if parent is not None and parent.type == "variable_declarator" \
            and parent.child_by_field_name("value") == call:
        bound = parent.child_by_field_name("name")
        if bound is not None and bound.type == "identifier":
            alias = text(bound, src)
        elif bound is not None and bound.type == "object_pattern":
            for part in bound.named_children:
                if part.type == "pair_pattern":
                    names.append(f"{text(part.child_by_field_name('key'), src)} as "
                                 f"{text(part.child_by_field_name('value'), src)}")
                elif part.type != "comment":
                    names.append(squash(text(part, src)))
    return {"module": unquote(text(caps["import.module"][0], src)), "names": names,
            "alias": alias}


def _exported(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in ("lexical_declaration", "variable_declaration"):
        parent = parent.parent
    return parent is not None and parent.type == "export_statement"


class TypeScript(JavaScript):
    name = "typescript"
    extensions: tuple[str, ...] = (".ts", ".mts", ".cts")
    query = "typescript"

    def grammar(self) -> Any:
        return tree_sitter_typescript.language_typescript()


class Tsx(TypeScript):
    name = "tsx"
    extensions: tuple[str, ...] = (".tsx",)

    def grammar(self) -> Any:
        return tree_sitter_typescript.language_tsx()


LANGUAGES = [JavaScript(), TypeScript(), Tsx()]
