"""Per language: the exact facts the code scraper extracts from its fixture file.

Each fixture under fixtures/code/ holds every construct the language has
(functions, methods, types, fields, constants, imports, calls). The first test
pins the complete list of facts in source order; the second pins the
payload details that are easy to get subtly wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kenning.scrapers.code.extract import decode_facts, extract
from kenning.scrapers.code.languages import extension_map, language_of
from tests.code_facts import Fact, facts_of, lines, summary

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "code"

FILES = {
    "python": "sample.py",
    "rust": "sample.rs",
    "javascript": "sample.js",
    "typescript": "sample.ts",
    "tsx": "sample.tsx",
    "go": "sample.go",
    "java": "Sample.java",
    "c": "sample.c",
    "cpp": "sample.cpp",
    "ruby": "sample.rb",
    "bash": "sample.sh",
}

EXPECTED = {
    "python": """
        constant MAX_SIZE
        type Shape
        member Shape.sides
        constant Shape.KIND
        function Shape.__init__
        member Shape.__init__
        member Shape.name
        function Shape.unit
        member Shape.unit
        function Shape.area
        member Shape.area
        function Shape._hidden
        member Shape._hidden
        member Shape._cache
        function helper
        function helper.inner
        import import:collections.abc
        import import:os
        import import:typing
        import import:shapes
        call Shape.unit -> Shape
        call Shape.area -> compute
        call helper.inner -> os.path.join
        call helper -> len
    """,
    "rust": """
        constant LIMIT
        constant GREETING
        type Point
        member Point.x
        member Point.y
        type Shape
        member Shape.Circle
        member Shape.Square
        type Area
        function Area.area
        member Area.area
        type Map
        function Point.new
        member Point.new
        function Point.norm
        member Point.norm
        function Point.area
        member Point.area
        function helper
        import import:std::collections
        import import:std::io
        call Point.norm -> helper(self.x).sqrt, helper
        call helper -> println!, f64::from
    """,
    "javascript": """
        constant MAX
        type Counter
        member Counter.count
        member Counter.zero
        function Counter.constructor
        member Counter.constructor
        function Counter.increment
        member Counter.increment
        function Counter.create
        member Counter.create
        function load
        function double
        function gen
        function Counter.send
        member Counter.send
        function exports.parse
        member exports.parse
        import import:fs
        import import:path
        import import:./util.js
        import import:./lib
        import import:fs#2
        call Counter.increment -> add
        call Counter.create -> new Counter
        call load -> fs.promises.readFile, join
        call <module> -> require
        call Counter.send -> lib.format
        call exports.parse -> JSON.parse
    """,
    "typescript": """
        constant VERSION
        type User
        member User.id
        member User.name
        function User.greet
        member User.greet
        type Id
        type Color
        constant Color.Red
        constant Color.Green
        type Service
        member Service.cache
        function Service.constructor
        member Service.constructor
        function Service.fetch
        member Service.fetch
        function Service.make
        member Service.make
        function Service.refresh
        member Service.refresh
        function handle
        function Util.noop
        import import:express
        import import:./config
        call Service -> new Map
        call Service.fetch -> this.cache.get, String
        call Service.make -> create
        call handle -> parseInt
    """,
    "tsx": """
        type Props
        function Title
        function Card
        type Page
        function Page.render
        member Page.render
        import import:react
        call Title -> format
    """,
    "go": """
        constant Limit
        constant a
        constant b
        type Point
        member Point.X
        member Point.y
        type Shape
        function Shape.Area
        member Shape.Area
        type ID
        function NewPoint
        function Point.Area
        member Point.Area
        function helper
        type Celsius
        import import:fmt
        import import:strings
        call Point.Area -> fmt.Println, str.ToUpper
    """,
    "java": """
        type Sample
        constant Sample.LIMIT
        member Sample.name
        function Sample.Sample
        member Sample.Sample
        function Sample.run
        member Sample.run
        function Sample.helper
        member Sample.helper
        function Sample.helper#2
        member Sample.helper#2
        type Sample.Listener
        function Sample.Listener.onEvent
        member Sample.Listener.onEvent
        type Sample.Mode
        constant Sample.Mode.ON
        constant Sample.Mode.OFF
        type Sample.Pair
        import import:java.util
        import import:java.util.concurrent
        import import:java.lang.Math
        call Sample.run -> System.out.println, helper
        call Sample.helper -> max
    """,
    "c": """
        constant LIMIT
        type point
        member point.x
        member point.y
        type point_t
        type color
        constant color.RED
        constant color.GREEN
        type value
        member value.i
        member value.f
        function add
        function add#2
        function name
        import import:stdio.h
        import import:local.h
        call name -> printf, add
    """,
    "cpp": """
        constant geo.kMax
        type geo.Shape
        function geo.Shape.Shape
        member geo.Shape.Shape
        function geo.Shape.~Shape
        member geo.Shape.~Shape
        function geo.Shape.area
        member geo.Shape.area
        function geo.Shape.unit
        member geo.Shape.unit
        member geo.Shape.sides_
        type geo.Point
        member geo.Point.x
        member geo.Point.y
        type geo.Points
        function geo.Shape.Shape#2
        member geo.Shape.Shape#2
        function geo.Shape.unit#2
        member geo.Shape.unit#2
        function geo.twice
        function main
        import import:vector
        import import:shape.hpp
        call geo.Shape.unit -> Shape
        call geo.twice -> helper
        call main -> geo::Shape::unit, geo::twice
    """,
    "ruby": """
        constant MAX
        type Greeting
        type Greeting.Greeter
        function Greeting.Greeter.initialize
        member Greeting.Greeter.initialize
        function Greeting.Greeter.greet
        member Greeting.Greeter.greet
        function Greeting.Greeter.create
        member Greeting.Greeter.create
        function helper
        import import:json
        import import:lib/helper
        call <module> -> require, require_relative
        call Greeting.Greeter -> attr_reader
        call Greeting.Greeter.greet -> format_name
        call Greeting.Greeter.create -> new
        call helper -> puts, JSON.dump
    """,
    "bash": """
        constant LIMIT
        function greet
        function main
        import import:./lib.sh
        call <module> -> source, main
        call greet -> echo, log_line
        call main -> greet
    """,
}


def fixture_facts(language: str) -> tuple[list[Fact], bool]:
    return facts_of(language, (FIXTURES / FILES[language]).read_bytes())


@pytest.mark.parametrize("language", sorted(FILES))
def test_every_fact_of_the_fixture(language: str) -> None:
    facts, partial = fixture_facts(language)
    assert not partial
    assert summary(facts) == lines(EXPECTED[language])
    assert all(p["language"] == language for _, _, p in facts)


def test_language_by_extension() -> None:
    extensions = extension_map()
    for language, name in FILES.items():
        assert language_of(f"src/{name}", extensions) == language
    assert language_of("README.md", extensions) is None
    assert language_of("x/.py", extensions) is None  # a dotfile, not a Python file
    custom = extension_map((("tpl", "python"),))
    assert language_of("a/B.TPL", custom) == "python"


def find(language: str, event_type: str, key: str, nth: int = 0) -> dict[str, Any]:
    facts, _ = fixture_facts(language)
    wanted = f"{key}#{nth + 1}" if nth else key  # a repeat's key carries its ordinal
    (found,) = [p for t, k, p in facts if t == event_type and k == wanted]
    return found


DETAILS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("python", "code.function", "Shape.area", {
        "kind": "method", "signature": "async def area(self, scale=1.0)",
        "parameters": ["self", "scale=1.0"], "return_type": None,
        "docstring": "Area, scaled.", "async": True, "public": True, "static": False,
        "container": "Shape", "start_line": 25, "end_line": 27,
        "body_excerpt": "return compute(self.name) * scale"}),  # the docstring is its own field
    ("python", "code.function", "Shape.unit", {
        "decorators": ["staticmethod"], "static": True, "return_type": '"Shape"'}),
    ("python", "code.function", "helper", {
        "kind": "function", "signature": "def helper(*args: Any, **kwargs: Opt[cabc.Sized]) -> int",
        "docstring": None, "return_type": "int"}),
    ("python", "code.function", "Shape._hidden", {"public": False}),
    ("python", "code.type", "Shape", {
        "kind": "class", "signature": "class Shape(Base)", "docstring": "A shape.",
        "members": ["sides", "KIND", "__init__", "name", "unit", "area", "_hidden", "_cache"]}),
    ("python", "code.import", "import:typing", {
        "module": "typing", "names": ["Any", "Optional as Opt"], "alias": None, "line": 5}),
    ("python", "code.import", "import:collections.abc", {"alias": "cabc", "names": []}),
    ("python", "code.constant", "MAX_SIZE", {"value": "10", "line": 9}),
    ("python", "code.member", "Shape.sides", {"member_kind": "field", "type": "int"}),
    ("python", "code.member", "Shape._cache", {"member_kind": "field", "type": "dict",
                                               "container": "Shape", "start_line": 30}),
    ("python", "code.call", "helper.inner", {
        "caller": "helper.inner", "calls": [{"callee": "os.path.join", "lines": [36]}]}),
    ("rust", "code.function", "Point.new", {
        "signature": "pub fn new(x: i32, y: i32) -> Self", "parameters": ["x: i32", "y: i32"],
        "return_type": "Self", "docstring": "Makes a point.", "public": True, "static": True}),
    ("rust", "code.function", "Point.norm", {"async": True, "public": False, "static": False}),
    ("rust", "code.type", "Point", {"kind": "struct", "docstring": "A point in space.",
                                    "members": ["x", "y"]}),
    ("rust", "code.type", "Area", {"kind": "trait", "docstring": "Things that have an area."}),
    ("rust", "code.type", "Map", {"kind": "alias"}),
    ("rust", "code.import", "import:std::io", {"module": "std::io", "names": ["self", "Read"]}),
    ("rust", "code.constant", "LIMIT", {"type": "usize", "value": "8"}),
    ("javascript", "code.function", "load", {
        "async": True, "public": True, "signature": "async function load(path)"}),
    ("javascript", "code.function", "double", {"parameters": ["x"], "public": False}),
    ("javascript", "code.function", "Counter.increment", {
        "docstring": "Adds one.", "parameters": ["step = 1"]}),
    ("javascript", "code.function", "Counter.create", {"static": True}),
    ("javascript", "code.type", "Counter", {"docstring": "A counter.",
                                            "signature": "class Counter extends Base"}),
    ("javascript", "code.import", "import:path", {"names": ["join", "resolve as res"]}),
    ("javascript", "code.import", "import:./util.js", {"names": ["*"], "alias": "util"}),
    ("javascript", "code.import", "import:./lib", {"names": [], "alias": "lib", "line": 37}),
    ("javascript", "code.import", "import:fs#2", {  # the second import of fs
        "names": ["readFileSync", "writeFile as write"], "alias": None}),
    ("javascript", "code.function", "Counter.send", {  # Counter.prototype.send = function
        "kind": "method", "container": "Counter", "docstring": "Sends a body.",
        "signature": "Counter.prototype.send = function send(body)", "parameters": ["body"]}),
    ("javascript", "code.function", "exports.parse", {"async": True, "parameters": ["text"]}),
    ("typescript", "code.function", "Service.fetch", {
        "return_type": "Promise<T | undefined>", "async": True, "public": True,
        "docstring": "Fetches one item.", "parameters": ["id: Id"]}),
    ("typescript", "code.function", "Service.refresh", {"public": False, "body_excerpt": ""}),
    ("typescript", "code.type", "User", {"kind": "interface", "docstring": "A user.",
                                         "members": ["id", "name", "greet"]}),
    ("typescript", "code.type", "Color", {"kind": "enum", "members": ["Red", "Green"]}),
    ("typescript", "code.member", "Service.cache", {"type": "Map<string, T>"}),
    ("tsx", "code.function", "Title", {"return_type": "JSX.Element",
                                       "docstring": "A heading."}),
    ("go", "code.function", "Point.Area", {
        "kind": "method", "container": "Point", "signature": "func (p *Point) Area() float64",
        "docstring": "Area of a point is zero.", "return_type": "float64", "public": True}),
    ("go", "code.function", "helper", {"return_type": "(int, error)", "public": False}),
    ("go", "code.type", "Point", {"kind": "struct", "docstring": "Point is a point.",
                                  "members": ["X", "y"]}),
    ("go", "code.import", "import:strings", {"alias": "str"}),
    ("go", "code.type", "Celsius", {"kind": "defined", "docstring": "Celsius is a temperature."}),
    ("go", "code.type", "ID", {"kind": "alias"}),
    ("java", "code.function", "Sample.helper", {"static": True, "public": False,
                                                "return_type": "int"}),
    ("java", "code.function", "Sample.run", {"decorators": ["Override"],
                                             "signature": "public void run()"}),
    ("java", "code.type", "Sample", {
        "docstring": "A sample class.",
        "signature": "public class Sample extends Base implements Runnable"}),
    ("java", "code.constant", "Sample.LIMIT", {"type": "int", "value": "5"}),
    ("java", "code.import", "import:java.util.concurrent", {"names": ["*"]}),
    ("c", "code.function", "name", {
        "signature": "static char *name(void)", "return_type": "char*", "static": True,
        "public": False}),
    ("c", "code.function", "add", {"docstring": None, "start_line": 21, "body_excerpt": ""}),
    ("c", "code.type", "point", {"kind": "struct", "docstring": "A point."}),
    ("cpp", "code.function", "geo.Shape.unit", {"static": True, "body_excerpt": ""}),
    ("cpp", "code.constant", "geo.kMax", {"value": "4"}),  # the declarator holds the value
    ("cpp", "code.type", "geo.Shape", {
        "docstring": "A shape.", "members": ["Shape", "~Shape", "area", "unit", "sides_"]}),
    ("ruby", "code.function", "Greeting.Greeter.create", {"static": True,
                                                          "signature": "def self.create"}),
    ("ruby", "code.type", "Greeting", {"kind": "module", "docstring": "A greeter."}),
    ("bash", "code.function", "greet", {"docstring": "Greets someone."}),
]


@pytest.mark.parametrize(("language", "event_type", "key", "expected"), DETAILS,
                         ids=[f"{d[0]}:{d[2]}" for d in DETAILS])
def test_fact_details(language: str, event_type: str, key: str,
                      expected: dict[str, Any]) -> None:
    payload = find(language, event_type, key)
    assert {k: payload.get(k) for k in expected} == expected


def test_duplicates_keep_source_order() -> None:
    first = find("java", "code.function", "Sample.helper")
    second = find("java", "code.function", "Sample.helper", 1)
    assert (first["parameters"], second["parameters"]) == (["int v"], ["int v", "int w"])
    definition = find("c", "code.function", "add", 1)  # after its prototype
    assert (definition["start_line"], definition["docstring"]) == (24, "Adds two numbers.")


def test_decorated_class_keeps_its_decorators() -> None:
    out, _ = extract("python", b"@dataclass(frozen=True)\nclass P:\n    x: int\n")
    ((payload,),) = [[json.loads(d)] for t, _, d in decode_facts(out) if t == "code.type"]
    assert (payload["signature"], payload["decorators"]) == ("class P", ["dataclass(frozen=True)"])


def test_body_excerpt_is_bounded() -> None:
    body = "\n".join(f"    x{i} = {'y' * 80}" for i in range(40))
    out, _ = extract("python", f"def big():\n{body}\n".encode())
    (payload,) = [json.loads(p) for t, _, p in decode_facts(out) if t == "code.function"]
    excerpt = payload["body_excerpt"]
    assert excerpt.startswith("x0 = y") and len(excerpt) <= 800
    assert excerpt.count("\n") < 15


def test_body_excerpt_starts_at_the_body_and_is_dedented() -> None:
    # a method in an impl block: the signature is its own field, not repeated here
    assert find("rust", "code.function", "Point.new")["body_excerpt"] == "{\n    Point { x, y }\n}"
    out, _ = extract("python", b"class A:\n    def f(self): return 1\n")
    (payload,) = [json.loads(p) for t, _, p in decode_facts(out) if t == "code.function"]
    assert payload["body_excerpt"] == "return 1"
    out, _ = extract("python", b'class B:\n    """Only a docstring."""\n')
    (payload,) = [json.loads(p) for t, _, p in decode_facts(out) if t == "code.type"]
    assert (payload["docstring"], payload["body_excerpt"]) == ("Only a docstring.", "")


def test_python_instance_attributes_are_fields_of_their_class() -> None:
    src = b"""class A:
    x: int = 0

    def __init__(self):
        self.x = 1
        self.y = 2
        if self:
            self.z = 3

    @property
    def p(self):
        def inner():
            self.w = 4
        self.y = 5
        return other.v


def free(self):
    self.q = 6
"""
    out, _ = extract("python", src)
    members = [(k, json.loads(p)["start_line"]) for t, k, p in decode_facts(out)
               if t == "code.member" and json.loads(p)["member_kind"] == "field"]
    # first assignment only, none for a name the class declares, none outside a class
    assert members == [("A.x", 2), ("A.y", 6), ("A.z", 8), ("A.w", 13)]


def test_every_python_file_of_this_repository_extracts() -> None:
    # real code in every shape we write: a crash here once hid behind a per-file warning
    root = FIXTURES.parent.parent
    files = sorted(p for d in ("kenning", "tests", "fixtures") for p in (root / d).rglob("*.py"))
    assert len(files) > 80
    facts = [fact for path in files
             for fact in decode_facts(extract("python", path.read_bytes())[0])]
    assert len(facts) > 3000


def test_syntax_errors_yield_what_parses() -> None:
    src = b"def good(a):\n    return a\n\ndef broken(:\n    pass\n\nclass Fine:\n    pass\n"
    out, partial = extract("python", src)
    keys = [k for t, k, _ in decode_facts(out) if t in ("code.function", "code.type")]
    assert partial
    assert "good" in keys and "Fine" in keys


def test_payloads_are_canonical_json() -> None:
    from kenning.eventlog.events import canonical_json

    for language in FILES:
        out, _ = extract(language, (FIXTURES / FILES[language]).read_bytes())
        for _, _, data in decode_facts(out):
            assert data == canonical_json(json.loads(data))


def test_undecodable_bytes_do_not_break_extraction() -> None:
    out, _ = extract("python", b"def caf\xe9():\n    return '\xff\xfe'\n\ndef ok():\n    pass\n")
    keys = [k for t, k, _ in decode_facts(out) if t == "code.function"]
    assert "ok" in keys
    assert all(json.loads(p) for _, _, p in decode_facts(out))  # valid whatever the bytes
