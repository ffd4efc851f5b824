"""PHP: the exact facts of fixtures/code/sample.php, the payload details that are
easy to get wrong, and the shapes the fixture cannot hold in one valid file
(braced namespaces, several namespaces, a doc comment after an attribute)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kenning.scrapers.code.languages import extension_map, language_of
from tests.code_facts import Fact, facts_of, lines, summary

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "code" / "sample.php"

EXPECTED = """
    constant App.Shapes.VERSION
    constant App.Shapes.DEBUG
    type App.Shapes.Named
    function App.Shapes.Named.name
    member App.Shapes.Named.name
    type App.Shapes.Logs
    member App.Shapes.Logs.lines
    function App.Shapes.Logs.log
    member App.Shapes.Logs.log
    type App.Shapes.Circle
    constant App.Shapes.Circle.SIDES
    member App.Shapes.Circle.count
    function App.Shapes.Circle.__construct
    member App.Shapes.Circle.__construct
    member App.Shapes.Circle.radius
    member App.Shapes.Circle.parent
    function App.Shapes.Circle.area
    member App.Shapes.Circle.area
    function App.Shapes.Circle.name
    member App.Shapes.Circle.name
    type App.Shapes.Suit
    constant App.Shapes.Suit.Hearts
    constant App.Shapes.Suit.Spades
    function App.Shapes.make
    import import:App\\Contracts\\Shape
    import import:App\\Support
    import import:App\\Support\\format
    import import:__DIR__ . '/bootstrap.php'
    import import:helpers.php
    call App.Shapes -> define, htmlspecialchars, make()->name, make
    call App.Shapes.Logs.log -> fmt
    call App.Shapes.Circle.area -> Str::round
    call App.Shapes.Circle.name -> $this->log, $this->parent?->name, A::first
    call App.Shapes.make -> Circle
"""


def facts(src: bytes) -> tuple[list[Fact], bool]:
    return facts_of("php", src)


def test_every_fact_of_the_fixture() -> None:
    found, partial = facts(FIXTURE.read_bytes())
    assert not partial
    assert summary(found) == lines(EXPECTED)
    assert all(p["language"] == "php" for _, _, p in found)


def find(event_type: str, key: str) -> dict[str, Any]:
    found, _ = facts(FIXTURE.read_bytes())
    (payload,) = [p for t, k, p in found if t == event_type and k == key]
    return payload


DETAILS: list[tuple[str, str, dict[str, Any]]] = [
    ("code.function", "App.Shapes.Circle.area", {
        "kind": "method", "container": "App.Shapes.Circle",
        "signature": "public static function area(float $r, int ...$scale): float",
        "parameters": ["float $r", "int ...$scale"], "return_type": "float",
        "docstring": "Area of a circle.", "decorators": ["Pure"],
        "public": True, "static": True, "async": False, "start_line": 48, "end_line": 53}),
    ("code.function", "App.Shapes.Circle.name", {  # no modifier: public
        "public": True, "static": False, "decorators": [], "docstring": None}),
    ("code.function", "App.Shapes.Logs.log", {"public": False, "return_type": "void"}),
    ("code.function", "App.Shapes.Circle.__construct", {
        "parameters": ["private float $radius", "public readonly ?Circle $parent = null"],
        "return_type": None}),
    ("code.function", "App.Shapes.make", {
        "kind": "function", "container": "App.Shapes",
        "signature": "function make(float $r): Circle",
        "return_type": "Circle", "body_excerpt": "{\n    return new Circle($r);\n}"}),
    ("code.type", "App.Shapes.Circle", {
        "kind": "class", "container": "App.Shapes",
        "signature": "final class Circle extends Base implements Shape, Named",
        "decorators": ["Entity", "Table('circles')"],
        "docstring": "A circle.\n\n@see Shape",  # tag lines kept, as Javadoc's are
        "members": ["SIDES", "count", "__construct", "radius", "parent", "area", "name"]}),
    ("code.type", "App.Shapes.Named", {"kind": "interface", "docstring": "Something with a name."}),
    ("code.type", "App.Shapes.Logs", {"kind": "trait", "members": ["lines", "log"]}),
    ("code.type", "App.Shapes.Suit", {"kind": "enum", "members": ["Hearts", "Spades"]}),
    ("code.constant", "App.Shapes.Suit.Hearts", {"value": "'H'", "container": "App.Shapes.Suit"}),
    ("code.constant", "App.Shapes.DEBUG", {"line": 14, "container": "App.Shapes",
                                           "value": "false"}),  # define()'s second argument
    ("code.constant", "App.Shapes.VERSION", {"value": "'1.0'"}),  # `const X = v`: no field name
    ("code.constant", "App.Shapes.Circle.SIDES", {"value": "0"}),
    ("code.member", "App.Shapes.Circle.count", {"member_kind": "field", "type": "int"}),
    ("code.member", "App.Shapes.Circle.parent", {  # constructor promotion: the class's field
        "member_kind": "field", "type": "?Circle", "container": "App.Shapes.Circle",
        "line": 45}),
    ("code.member", "App.Shapes.Logs.lines", {"type": "array"}),
    ("code.import", "import:App\\Contracts\\Shape", {"names": [], "alias": None, "line": 6}),
    ("code.import", "import:App\\Support", {"names": ["Str", "Arr as A"], "alias": None}),
    ("code.import", "import:App\\Support\\format", {"names": [], "alias": "fmt"}),
    ("code.import", "import:helpers.php", {"module": "helpers.php", "line": 11}),
    ("code.call", "App.Shapes.Circle.name", {"calls": [
        {"callee": "$this->log", "lines": [57]},
        {"callee": "$this->parent?->name", "lines": [58]},
        {"callee": "A::first", "lines": [58]}]}),
]


@pytest.mark.parametrize(("event_type", "key", "expected"), DETAILS,
                         ids=[d[1] for d in DETAILS])
def test_fact_details(event_type: str, key: str, expected: dict[str, Any]) -> None:
    payload = find(event_type, key)
    assert {k: payload.get(k) for k in expected} == expected


def test_braced_namespaces_and_use_lists() -> None:
    src = b"""<?php
namespace A\\B\\C {
    use \\Lib\\X, Lib\\Y as Z;
    // a plain comment, no doc
    function f() { require('boot.php'); }
    class K {
        #[Route('/k')]
        /** After the attribute. */
        protected static function k() {}
    }
}
namespace {
    function g() { return Q::make()->where(1)->get(); }
}
"""
    found, partial = facts(src)
    assert not partial
    assert summary(found) == [
        "function A.B.C.f", "type A.B.C.K", "function A.B.C.K.k", "member A.B.C.K.k",
        "function g", "import import:Lib\\X", "import import:Lib\\Y", "import import:boot.php",
        "call g -> Q::make()->where()->get, Q::make()->where, Q::make"]
    by_key = {k: p for t, k, p in found if t != "code.member"}
    assert by_key["A.B.C.f"]["docstring"] is None
    assert {k: by_key["A.B.C.K.k"][k] for k in ("docstring", "decorators", "public", "static")} \
        == {"docstring": "After the attribute.", "decorators": ["Route('/k')"],
            "public": False, "static": True}
    assert (by_key["import:Lib\\X"]["alias"], by_key["import:Lib\\Y"]["alias"]) == (None, "Z")


def test_several_unbraced_namespaces_qualify_nothing() -> None:
    # `namespace A;` runs to the next one, which no node spans: rather none than wrong
    found, _ = facts(b"<?php\nnamespace A;\nfunction one() {}\nnamespace B;\nfunction two() {}\n")
    assert summary(found) == ["function one", "function two"]


def test_broken_and_template_files_yield_what_parses() -> None:
    found, partial = facts(b"<ul><?php foreach ($xs as $x): ?><li><?= e($x) ?></li>\n"
                           b"<?php endforeach; ?></ul>\n<?php\nfunction e($s) {\n  return h(")
    assert partial
    assert "call <module> -> e" in summary(found)


def test_language_by_extension() -> None:
    assert language_of("src/x.php", extension_map()) == "php"
    assert language_of("src/X.PHP", extension_map()) == "php"
