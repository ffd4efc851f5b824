"""Python: docstrings, decorators, `async def`, `import` and `from ... import`."""

from __future__ import annotations

import inspect
import re
from typing import Any

import tree_sitter_python
from tree_sitter import Node

from kenning.scrapers.code.languages import Syntax, text

_STRING = re.compile(r"^[rRbBuUfF]*(\"\"\"|'''|\"|')(.*)\1$", re.DOTALL)


class Python(Syntax):
    name = "python"
    extensions: tuple[str, ...] = (".py", ".pyi")
    query = "python"
    wrappers = frozenset({"decorated_definition"})
    docstring_in_body = True

    def grammar(self) -> Any:
        return tree_sitter_python.language()

    def docstring(self, node: Node, src: bytes) -> str | None:
        body = node.child_by_field_name("body")
        if body is None or body.named_child_count == 0:
            return None
        first = body.named_child(0)  # not named_children: a class body holds many
        if first is None or first.type != "expression_statement" \
                or first.named_child_count != 1:
            return None
        string = first.named_child(0)
        if string is None or string.type != "string":
            return None
        match = _STRING.match(text(string, src))
        return inspect.cleandoc(match.group(2)) or None if match else None

    def decorators(self, node: Node, src: bytes) -> list[str]:
        parent = node.parent
        if parent is None or parent.type != "decorated_definition":
            return []
        return [text(d, src).lstrip("@").strip() for d in parent.named_children
                if d.type == "decorator"]

    def flags(self, node: Node, name: str, src: bytes, in_type: bool,
              decorators: list[str]) -> dict[str, bool]:
        first = node.child(0)
        return {
            "async": first is not None and first.type == "async",
            "public": not name.startswith("_") or (name.startswith("__") and name.endswith("__")),
            "static": in_type and ("staticmethod" in decorators or "classmethod" in decorators),
        }

    def imports(self, node: Node, caps: dict[str, list[Node]],
                src: bytes) -> list[dict[str, Any]]:
        if node.type == "import_statement":
            out: list[dict[str, Any]] = []
            for child in node.children_by_field_name("name"):
                if child.type == "aliased_import":
                    out.append({"module": text(child.child_by_field_name("name"), src),
                                "names": [],
                                "alias": text(child.child_by_field_name("alias"), src)})
                else:
                    out.append({"module": text(child, src), "names": [], "alias": None})
            return out
        module = text(node.child_by_field_name("module_name"), src)
        names = []
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                names.append(f"{text(child.child_by_field_name('name'), src)} as "
                             f"{text(child.child_by_field_name('alias'), src)}")
            else:
                names.append(text(child, src))
        if any(c.type == "wildcard_import" for c in node.named_children):
            names.append("*")
        return [{"module": module, "names": names, "alias": None}]


LANGUAGES = [Python()]
