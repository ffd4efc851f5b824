"""Line numbers the extractor counts itself ("\\n" bytes before a node) are tree-sitter's rows.

The extractor does not ask tree-sitter for each node's row (a Point per call site
is slow); these sources with other line breaks and undecodable bytes pin that the
count agrees with tree-sitter's own start and end rows.
"""

from __future__ import annotations

import json

import pytest

from kenning.scrapers.code.extract import compiled, decode_facts, extract

CASES = {
    "crlf": b"x = 1\r\ndef f():\r\n    g()\r\n\r\nclass A:\r\n    def m(self):\r\n        h(1)\r\n",
    "lone cr": b"x = 1\rdef f():\r    g()\n\rclass A:\r\n    def m(self): h()\r",
    "bad utf-8": b"\xff\xfe\n\x80def f():\n  \xc3\n  g()\n\x00\nclass B:\n  def m(self): k()\n",
    "unicode breaks": "s = '\u2028'\ndef f():\n    '''doc\u2029x'''\n    g(\n\n1)\n".encode(),
}


def rows(src: bytes) -> tuple[set[tuple[int, int]], set[int]]:
    """(start, end) rows of every function and class, and the rows of every call: tree-sitter's."""
    root = compiled("python").parser.parse(src).root_node
    spans, calls, stack = set(), set(), [root]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type in ("function_definition", "class_definition"):
            spans.add((node.start_point[0] + 1, node.end_point[0] + 1))
        elif node.type == "call":
            calls.add(node.start_point[0] + 1)
    return spans, calls


@pytest.mark.parametrize("name", sorted(CASES))
def test_lines_are_tree_sitter_rows(name: str) -> None:
    src = CASES[name]
    spans, calls = set(), set()
    for event_type, _key, data in decode_facts(extract("python", src)[0]):
        payload = json.loads(data)
        if event_type in ("code.function", "code.type"):
            spans.add((payload["start_line"], payload["end_line"]))
        elif event_type == "code.call":
            calls.update(line for call in payload["calls"] for line in call["lines"])
    assert (spans, calls) == rows(src)
    assert spans and calls
