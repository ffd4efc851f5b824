"""PHP: modifiers give the flags, `#[...]` attributes are decorators, `use` and
require/include are imports.

Namespaces qualify with dots (`namespace App\\Models;` + `class User` is
App.Models.User) like every other language's containers; imports and callees keep
PHP's backslashes as written.
"""

from __future__ import annotations

from typing import Any

import tree_sitter_php
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, clean_comment, squash, text, unquote

_STRINGS = ("string", "encapsed_string")
_CALLS = frozenset({"function_call_expression", "member_call_expression",
                    "nullsafe_member_call_expression", "scoped_call_expression"})
_ACCESS = frozenset({"member_access_expression", "nullsafe_member_access_expression"})


class Php(Syntax):
    name = "php"
    extensions: tuple[str, ...] = (".php",)
    query = "php"
    attribute_types = frozenset({"attribute_list"})

    def grammar(self) -> Any:
        return tree_sitter_php.language_php()

    def refine_kind(self, kind: str, node: Node, src: bytes) -> str | None:
        if kind == "namespace" and node.type == "program":
            # the file's one `namespace X;` holds it all; with several (or braced ones
            # too) none is the whole file's container, and what follows stays unqualified
            spaces = [c for c in node.children if c.type == "namespace_definition"]
            return kind if len(spaces) == 1 else None
        return kind

    def constant_value(self, node: Node) -> Node | None:
        if node.type == "function_call_expression":  # define('X', value)
            args = node.child_by_field_name("arguments")
            values = [a for a in args.named_children if a.type == "argument"] if args else []
            return values[1].named_child(0) if len(values) > 1 \
                and values[1].named_child_count else None
        return super().constant_value(node)

    def is_doc_comment(self, comment: str) -> bool:
        return comment.startswith("/**")

    def docstring(self, node: Node, src: bytes) -> str | None:
        doc = super().docstring(node, src)
        if doc is None:  # `#[Attr] /** doc */ function f()`: the comment is inside
            for child in node.children:
                if child.type == "comment" and self.is_doc_comment(text(child, src)):
                    return clean_comment([text(child, src)]) or None
                if child.type not in ("attribute_list", "comment"):
                    break
        return doc

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        types = {c.type for c in node.children}
        visibility = next((text(c, src) for c in node.children
                           if c.type == "visibility_modifier"), "public")
        return {"async": False, "public": visibility.lower() == "public",
                "static": "static_modifier" in types}

    def decorators(self, node: Node, src: bytes) -> list[str]:
        attributes = node.child_by_field_name("attributes")
        if attributes is None:
            return []
        return [squash(text(a, src)) for group in attributes.named_children
                for a in group.named_children if a.type == "attribute"]

    def callee(self, node: Node, caps: dict[str, list[Node]], src: bytes) -> str:
        if caps.get("call.name"):  # f(), new X
            return super().callee(node, caps, src)
        return squash(_chained(node, src), 160)

    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]:
        if node.type != "namespace_use_declaration":  # require/include
            target = node.named_children[-1] if node.named_child_count else None
            while target is not None and target.type == "parenthesized_expression" \
                    and target.named_child_count:
                target = target.named_children[0]
            if target is None:
                return []
            written = text(target, src)
            module = unquote(written) if target.type in _STRINGS else squash(written, 200)
            return [{"module": module, "names": [], "alias": None}]
        group = node.child_by_field_name("body")
        if group is not None:  # use A\{B, C as D};
            prefix = next((c for c in node.named_children if c.type == "namespace_name"), None)
            names = []
            for clause in group.named_children:
                if clause.type == "namespace_use_clause":
                    alias = clause.child_by_field_name("alias")
                    name = text(_target(clause), src)
                    names.append(f"{name} as {text(alias, src)}" if alias else name)
            return [{"module": text(prefix, src).lstrip("\\"), "names": names, "alias": None}]
        out: list[dict[str, Any]] = []
        for clause in node.named_children:  # use A\B, C\D as E;
            if clause.type == "namespace_use_clause":
                alias = clause.child_by_field_name("alias")
                out.append({"module": text(_target(clause), src).lstrip("\\"), "names": [],
                            "alias": text(alias, src) if alias else None})
        return out


def _chained(node: Node, src: bytes) -> str:
    """A method call's callee, the arguments of the calls it is chained on left out:
    `User::query()->where('a', 1)->get()` calls `User::query()->where()->get`."""
    args = node.child_by_field_name("arguments")
    parts = []
    for child in node.children:
        if child == args:
            break
        if child.type in _CALLS:
            parts.append(_chained(child, src) + "()")
        elif child.type in _ACCESS:
            parts.append(_chained(child, src))
        else:
            parts.append(text(child, src))
    return "".join(parts)


def _target(clause: Node) -> Node | None:
    """What a use clause names (its first name; an alias comes after `as`)."""
    return next((c for c in clause.named_children if c.type in ("qualified_name", "name")),
                None)


LANGUAGES = [Php()]
