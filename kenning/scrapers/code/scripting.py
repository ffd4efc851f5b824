"""Ruby and Bash: small grammars, comment docs, calls by name."""

from __future__ import annotations

from typing import Any

import tree_sitter_bash
import tree_sitter_ruby
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, squash, text


class Ruby(Syntax):
    name = "ruby"
    extensions: tuple[str, ...] = (".rb", ".rake")
    query = "ruby"

    def grammar(self) -> Any:
        return tree_sitter_ruby.language()

    def docstring(self, node: Node, src: bytes) -> str | None:
        doc = super().docstring(node, src)
        if doc is None and node.parent is not None and node.parent.type in ("class", "module"):
            # `class X  # comment` puts the comment inside the class node
            return None
        return doc

    def body(self, node: Node) -> Node | None:
        return node.child_by_field_name("body") or next(
            (c for c in node.named_children if c.type == "body_statement"), None)

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        return {"async": False, "public": True, "static": node.type == "singleton_method"}

    def callee(self, node: Node, caps: dict[str, list[Node]], src: bytes) -> str:
        method = node.child_by_field_name("method")
        receiver = node.child_by_field_name("receiver")
        name = text(method, src)
        return squash(f"{text(receiver, src)}.{name}" if receiver else name, 160)


class Bash(Syntax):
    name = "bash"
    extensions: tuple[str, ...] = (".sh", ".bash")
    query = "bash"

    def grammar(self) -> Any:
        return tree_sitter_bash.language()

    def parameters(self, fn: Node) -> Node | None:
        return None

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        return {"async": False, "public": True, "static": False}


LANGUAGES = [Ruby(), Bash()]
