"""C#: `///` XML doc comments, modifiers and attributes, `using` directives."""

from __future__ import annotations

import html
import re
from typing import Any

import tree_sitter_c_sharp
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, squash, text

# <param name="x">, <typeparam name="T">, <exception cref="E">: "x: " before their text
_NAMED = re.compile(r'<(?:param|typeparam|exception)\s+(?:name|cref)\s*=\s*"([^"]*)"\s*>')
# <see cref="X"/>, <paramref name="x"/>, <see langword="null"/>: the name they point at
_POINTER = re.compile(r'<\w+\s+(?:cref|name|langword|href)\s*=\s*"(?:\w:)?([^"]*)"\s*/>')
_TAG = re.compile(r"</?\w+[^<>]*>")


def _modifiers(node: Node, src: bytes) -> set[str]:
    return {text(c, src) for c in node.children if c.type == "modifier"}


def _xml_text(doc: str) -> str:
    """An XML doc comment's text: tags dropped, their text kept."""
    lines = []
    for line in _POINTER.sub(r"\1", _NAMED.sub(r"\1: ", doc)).splitlines():
        bare = " ".join(_TAG.sub("", line).split())
        if bare or not line.strip():  # a line of tags alone (<summary>) is no blank line
            lines.append(html.unescape(bare))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class CSharp(Syntax):
    name = "csharp"
    extensions: tuple[str, ...] = (".cs",)
    query = "csharp"
    attribute_types = frozenset({"attribute_list"})

    def grammar(self) -> Any:
        return tree_sitter_c_sharp.language()

    def refine_kind(self, kind: str, node: Node, src: bytes) -> str | None:
        if kind == "field" and node.type == "variable_declarator":
            declaration = node.parent.parent if node.parent is not None else None
            if declaration is not None and "const" in _modifiers(declaration, src):
                return "constant"
        if kind == "class" and node.type == "record_declaration" \
                and any(c.type == "struct" for c in node.children):
            return "struct"  # `record struct`
        return kind

    def is_doc_comment(self, comment: str) -> bool:
        return comment.startswith(("///", "/**"))

    def docstring(self, node: Node, src: bytes) -> str | None:
        doc = super().docstring(node, src)
        return _xml_text(doc) or None if doc else None

    def parameter_texts(self, params: Node, src: bytes) -> list[str]:
        """Split at the commas: the grammar puts `params T[] rest` in the list as two nodes."""
        out: list[str] = []
        start = end = None
        for child in params.children:
            if child.type in (",", ")"):
                if start is not None and end is not None:
                    out.append(squash(src[start:end].decode("utf-8", "replace"), 200))
                start = end = None
            elif child.type != "(" and child.type not in self.comment_types:
                start = child.start_byte if start is None else start
                end = child.end_byte
        return out

    def return_type(self, fn: Node, src: bytes) -> str | None:
        node = fn.child_by_field_name("returns") or fn.child_by_field_name("type")
        return squash(text(node, src)) or None if node else None

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        mods = _modifiers(node, src)
        owner = node.parent.parent if node.parent is not None else None
        in_interface = owner is not None and owner.type == "interface_declaration"
        return {"async": "async" in mods,
                "public": "public" in mods or (in_interface and not mods & {
                    "private", "protected", "internal"}),
                "static": "static" in mods}

    def decorators(self, node: Node, src: bytes) -> list[str]:
        return [squash(text(a, src)) for lst in node.children if lst.type == "attribute_list"
                for a in lst.named_children if a.type == "attribute"]

    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]:
        alias = node.child_by_field_name("name")
        target = next((c for c in reversed(node.named_children)
                       if c != alias and c.type not in ("comment", "ERROR")), None)
        module = squash(text(target, src)).removeprefix("global::")
        if not module:  # `using ;` mid-edit
            return []
        static = any(c.type == "static" for c in node.children)
        return [{"module": module, "names": ["*"] if static else [],
                 "alias": text(alias, src) if alias is not None else None}]

    def callee(self, node: Node, caps: dict[str, list[Node]], src: bytes) -> str:
        name = squash(text(caps["call.name"][0], src), 160)
        if node.type == "object_creation_expression":
            return "new " + name
        return "" if name == "nameof" else name  # nameof(x) is a constant, not a call


LANGUAGES = [CSharp()]
