"""C#: the exact facts the code scraper extracts from fixtures/code/sample.cs.

The complete list of facts in source order, then the payload details that are
easy to get subtly wrong (XML doc comments, modifiers, attributes, usings,
namespaces), then the shapes one valid fixture cannot hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kenning.scrapers.code.languages import extension_map, language_of
from tests.code_facts import Fact, facts_of, lines, summary

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "code" / "sample.cs"

EXPECTED = """
    type Acme.Shapes.IShape
    function Acme.Shapes.IShape.Area
    member Acme.Shapes.IShape.Area
    type Acme.Shapes.Shape
    constant Acme.Shapes.Shape.MaxSides
    member Acme.Shapes.Shape.tags
    member Acme.Shapes.Shape.count
    member Acme.Shapes.Shape.total
    member Acme.Shapes.Shape.Changed
    member Acme.Shapes.Shape.Name
    member Acme.Shapes.Shape.Sides
    function Acme.Shapes.Shape.Shape
    member Acme.Shapes.Shape.Shape
    function Acme.Shapes.Shape.Area
    member Acme.Shapes.Shape.Area
    function Acme.Shapes.Shape.ScaleAsync
    member Acme.Shapes.Shape.ScaleAsync
    function Acme.Shapes.Shape.ScaleAsync.Twice
    function Acme.Shapes.Shape.Pick
    member Acme.Shapes.Shape.Pick
    type Acme.Shapes.Shape.Point
    member Acme.Shapes.Shape.Point.X
    function Acme.Shapes.Shape.Point.Point
    member Acme.Shapes.Shape.Point.Point
    type Acme.Shapes.Color
    constant Acme.Shapes.Color.Red
    constant Acme.Shapes.Color.Green
    type Acme.Shapes.Pair
    member Acme.Shapes.Pair.Left
    member Acme.Shapes.Pair.Right
    type Acme.Shapes.Size
    member Acme.Shapes.Size.W
    member Acme.Shapes.Size.H
    import import:System
    import import:System.Collections.Generic
    import import:System.Threading.Tasks
    import import:System.IO
    import import:System.Math
    call Acme.Shapes.Shape -> new List<string>
    call Acme.Shapes.Shape.Shape -> new ArgumentNullException, tags.Add
    call Acme.Shapes.Shape.ScaleAsync -> Task.Delay, Twice, Max, shape.Area
    call Acme.Shapes.Shape.Pick -> new Fallback<T>
"""


def csharp(src: bytes) -> tuple[list[Fact], bool]:
    return facts_of("csharp", src)


def test_every_fact_of_the_fixture() -> None:
    facts, partial = csharp(FIXTURE.read_bytes())
    assert not partial
    assert summary(facts) == lines(EXPECTED)
    assert all(p["language"] == "csharp" for _, _, p in facts)


def find(event_type: str, key: str) -> dict[str, Any]:
    facts, _ = csharp(FIXTURE.read_bytes())
    (found,) = [p for t, k, p in facts if t == event_type and k == key]
    return found


NS = "Acme.Shapes."

DETAILS: list[tuple[str, str, dict[str, Any]]] = [
    ("code.function", NS + "Shape.ScaleAsync", {
        "kind": "method", "container": NS + "Shape", "start_line": 43, "end_line": 50,
        "signature": "public static async Task<double> ScaleAsync(Shape shape, "
                     "double factor = 1.0)",  # the attributes are its decorators
        "parameters": ["Shape shape", "double factor = 1.0"], "return_type": "Task<double>",
        "docstring": "The scaled area & more.", "decorators": ['Obsolete("use Area")', "Pure"],
        "async": True, "public": True, "static": True}),
    ("code.function", NS + "Shape.Shape", {  # a constructor: no return type
        "signature": "protected Shape(string name)", "return_type": None, "public": False,
        "static": False, "docstring": "Makes one.\nname: What to call it.", "decorators": []}),
    ("code.function", NS + "Shape.ScaleAsync.Twice", {
        "kind": "function", "container": NS + "Shape.ScaleAsync", "return_type": "double",
        "parameters": ["double x"], "public": False, "body_excerpt": "=> x * 2"}),
    ("code.function", NS + "Shape.Pick", {
        "return_type": "T", "public": False,  # internal
        "signature": "internal T Pick<T>(T first) where T : class"}),
    ("code.function", NS + "IShape.Area", {  # an interface's members are public
        "public": True, "signature": "double Area()", "body_excerpt": ""}),
    ("code.function", NS + "Shape.Area", {"public": True, "static": False,
                                          "signature": "public abstract double Area()"}),
    ("code.type", NS + "Shape", {
        "kind": "class", "container": "Acme.Shapes", "start_line": 19, "end_line": 59,
        "docstring": "A base shape, see IShape.\nAbstract.",
        "signature": "public abstract class Shape : IShape", "decorators": ["Serializable"],
        "members": ["MaxSides", "tags", "count", "total", "Changed", "Name", "Sides", "Shape",
                    "Area", "ScaleAsync", "Pick"]}),
    ("code.type", NS + "IShape", {"kind": "interface", "docstring": "Something with an area.",
                                  "members": ["Area"]}),
    ("code.type", NS + "Shape.Point", {"kind": "struct", "container": NS + "Shape",
                                       "members": ["X", "Point"]}),
    ("code.type", NS + "Color", {"kind": "enum", "members": ["Red", "Green"]}),
    ("code.type", NS + "Pair", {"kind": "class", "members": ["Left", "Right"],
                                "signature": "public record Pair(int Left, int Right)"}),
    ("code.type", NS + "Size", {"kind": "struct"}),  # record struct
    ("code.constant", NS + "Shape.MaxSides", {"type": "int", "line": 22, "value": "12"}),
    ("code.constant", NS + "Color.Green", {"value": "2", "container": NS + "Color"}),
    ("code.member", NS + "Shape.tags", {"member_kind": "field", "type": "List<string>"}),
    ("code.member", NS + "Shape.total", {"type": "int", "line": 24}),
    ("code.member", NS + "Shape.Changed", {"type": "EventHandler"}),
    ("code.member", NS + "Shape.Name", {"member_kind": "field", "type": "string", "line": 28}),
    ("code.member", NS + "Pair.Right", {"type": "int", "container": NS + "Pair"}),
    ("code.import", "import:System.Collections.Generic", {
        "module": "System.Collections.Generic", "names": [], "alias": None, "line": 2}),
    ("code.import", "import:System.IO", {"module": "System.IO", "names": [], "alias": "IO"}),
    ("code.import", "import:System.Math", {"module": "System.Math", "names": ["*"],
                                           "alias": None, "line": 5}),
    ("code.call", NS + "Shape.ScaleAsync", {
        "caller": NS + "Shape.ScaleAsync",
        "calls": [{"callee": "Task.Delay", "lines": [48]}, {"callee": "Twice", "lines": [49]},
                  {"callee": "Max", "lines": [49]}, {"callee": "shape.Area", "lines": [49]}]}),
]


@pytest.mark.parametrize(("event_type", "key", "expected"), DETAILS,
                         ids=[d[1] for d in DETAILS])
def test_fact_details(event_type: str, key: str, expected: dict[str, Any]) -> None:
    payload = find(event_type, key)
    assert {k: payload.get(k) for k in expected} == expected


def test_block_namespaces_nest_and_qualify() -> None:
    src = b"""global using System.Linq;
using U = global::Acme.Util;
namespace Outer.Mid
{
    namespace Inner
    {
        /** A widget. */
        internal class Widget { void Spin() => Run(); }
    }
    class Top { }
}
"""
    facts, partial = csharp(src)
    assert not partial
    assert [(t, k) for t, k, _ in facts] == [
        ("code.type", "Outer.Mid.Inner.Widget"),
        ("code.function", "Outer.Mid.Inner.Widget.Spin"),
        ("code.member", "Outer.Mid.Inner.Widget.Spin"),
        ("code.type", "Outer.Mid.Top"),
        ("code.import", "import:System.Linq"),
        ("code.import", "import:Acme.Util"),  # global:: is the root, not a name
        ("code.chunk", "chunk:1"),  # the usings and the namespace lines
        ("code.call", "Outer.Mid.Inner.Widget.Spin"),
    ]
    widget = facts[0][2]
    assert (widget["container"], widget["docstring"], widget["signature"]) == (
        "Outer.Mid.Inner", "A widget.", "internal class Widget")
    assert facts[1][2]["public"] is False  # a class member is private unless it says so


def test_doc_comments_are_triple_slash_only_and_adjacent() -> None:
    src = b"""class A
{
    // not a doc comment
    void F() { }

    /// <summary>Kept.</summary>

    void G() { }

    /// <inheritdoc/>
    void H() { }
}
"""
    facts, _ = csharp(src)
    docs = {p["name"]: p["docstring"] for t, _, p in facts if t == "code.function"}
    assert docs == {"F": None, "G": None, "H": None}


def test_language_by_extension() -> None:
    assert language_of("src/X.cs", extension_map()) == "csharp"
    assert language_of("src/X.CS", extension_map()) == "csharp"


def test_a_params_array_is_one_parameter() -> None:
    facts, _ = csharp(b"class A { T Pick<T>(T first, params T[] rest) => first; "
                        b"int M(int a /* why */, [In] ref int b) => a; }")
    found = {p["name"]: p["parameters"] for t, _, p in facts if t == "code.function"}
    assert found == {"Pick": ["T first", "params T[] rest"], "M": ["int a", "[In] ref int b"]}
