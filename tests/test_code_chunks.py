"""code.chunk: the code outside definitions, so every line of a source file that
holds a word is in some searchable document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.scrapers.code.chunks import CHUNK_CHARS, CHUNK_LINES, Chunk, chunks
from kenning.scrapers.code.extract import extract
from tests.code_facts import Fact, facts_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "code"
_WORDY = re.compile(r"[^\W_]")
SPANNED = ("code.function", "code.type")  # the definitions chunks leave out


def spans(facts: list[Fact], types: tuple[str, ...]) -> list[tuple[int, int]]:
    return [(p["start_line"], p["end_line"]) for t, _, p in facts if t in types]


def uncovered(src: str, facts: list[Fact], lead: set[int] = frozenset()) -> list[int]:
    """Lines holding a word that no definition's span, chunk or (given) lead line holds."""
    held = set(lead)
    for start, end in spans(facts, (*SPANNED, "code.chunk")):
        held.update(range(start, end + 1))
    return [n for n, line in enumerate(src.split("\n"), 1)
            if _WORDY.search(line) and n not in held]


def chunk_texts(facts: list[Fact]) -> list[str]:
    return [p["text"] for t, _, p in facts if t == "code.chunk"]


# -- the chunker alone ---------------------------------------------------------------


def test_chunks_leave_out_definitions_and_bridge_small_ones() -> None:
    lines = ["import os", "", "@route('/a')", "def a():", "    return 1", "", "@route('/b')",
             "def b():", "    return 2", "}"]
    assert chunks(lines, [(4, 5), (8, 9)]) == [
        Chunk(1, 10, "import os\n\n@route('/a')\n\n@route('/b')\n}")]
    assert chunks(lines, [(2, 9)]) == [Chunk(1, 10, "import os\n}")]


def test_chunks_are_bounded() -> None:
    lines = [f"x{i} = {i}" for i in range(1, 121)]
    got = chunks(lines, [])
    assert [(c.start_line, c.end_line) for c in got] == [(1, 50), (51, 100), (101, 120)]
    wide = ["y" * 400] * 10
    got = chunks(wide, [])
    assert all(len(c.text) <= CHUNK_CHARS for c in got) and len(got) == 4
    assert chunks(["z" * 5000], [])[0].text == "z" * CHUNK_CHARS
    assert chunks(["}", "", "  );"], []) == []


# -- real files ------------------------------------------------------------------------


FLASK_LIKE = '''\
"""The application object."""

from __future__ import annotations

import typing as t

from .scaffold import Scaffold, setupmethod

# the default configuration
DEFAULT_CONFIG = {
    "DEBUG": None,
    "TESTING": False,
}


class App(Scaffold):
    """The flask object implements a WSGI application.

    It acts as the central object.
    """

    #: The class used for the request object.
    request_class = Request
    response_class = Response
    jinja_environment = Environment
    app_ctx_globals_class = _AppCtxGlobals
    config_class = Config
    testing = ConfigAttribute("TESTING")
    secret_key = ConfigAttribute("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute("PERMANENT_SESSION_LIFETIME")
    json_provider_class = DefaultJSONProvider
    url_rule_class = Rule
    url_map_class = Map
    test_client_class = None
    test_cli_runner_class = None
    default_config = ImmutableDict(DEFAULT_CONFIG)

    @setupmethod
    def add_url_rule(self, rule, endpoint=None):
        self.url_map.add(rule)

    @setupmethod
    def errorhandler(self, code):
        return code


app = App(__name__)
app.register_blueprint(bp, url_prefix="/api")

if __name__ == "__main__":
    app.run()
'''


def test_flask_like_module() -> None:
    facts, _ = facts_of("python", FLASK_LIKE.encode())
    assert uncovered(FLASK_LIKE, facts) == []
    texts = chunk_texts(facts)
    joined = "\n".join(texts)
    for line in ('"""The application object."""', "from .scaffold import Scaffold, setupmethod",
                 "# the default configuration", '    "TESTING": False,',
                 'app.register_blueprint(bp, url_prefix="/api")',
                 "    app.run()"):
        assert line in joined.split("\n"), line
    for line in ("def add_url_rule", "self.url_map.add(rule)", "@setupmethod"):
        assert line not in joined  # the method's own (decorated) document has it
    assert "It acts as the central object." not in joined  # the class's own document has it
    [app] = [p for t, _, p in facts if t == "code.type"]
    assert app["body_excerpt"].endswith("default_config = ImmutableDict(DEFAULT_CONFIG)")
    assert "default_config" not in joined  # the 15th line of the class's excerpt


def long_function(lines: int, word_at: int) -> str:
    """A Python function of `lines` lines whose line `word_at` alone says "zanzibar"."""
    body = [f"    step_{n} = step_{n - 1} + 1" for n in range(2, lines)]
    body[word_at - 2] = "    zanzibar = step_1"
    return "\n".join(["def run(step_1):", *body, "    return step_1"]) + "\n"


def test_a_long_functions_lines_past_its_excerpt_are_chunked() -> None:
    src = long_function(60, 50)
    facts, _ = facts_of("python", src.encode())
    [fn] = [p for t, _, p in facts if t == "code.function"]
    assert (fn["start_line"], fn["end_line"]) == (1, 60)  # its span is still the whole function
    assert "zanzibar" not in fn["body_excerpt"]
    [chunk] = [p for t, _, p in facts if t == "code.chunk"]
    assert (chunk["start_line"], chunk["end_line"]) == (17, 60)  # the excerpt shows lines 2-16
    assert "    zanzibar = step_1" in chunk["text"].split("\n")
    assert "step_16 = " not in chunk["text"] and "def run" not in chunk["text"]


def test_a_short_function_is_its_own_document_alone() -> None:
    facts, _ = facts_of("python", long_function(16, 10).encode())
    assert [t for t, _, _ in facts if t == "code.chunk"] == []


def test_lines_past_the_excerpts_characters_are_chunked() -> None:
    wide = [f'    v{n} = "{"w" * 300}";' for n in range(1, 8)]
    src = "\n".join(["function wide() {", *wide, '    return "quokka";', "}"]) + "\n"
    facts, _ = facts_of("javascript", src.encode())
    [fn] = [p for t, _, p in facts if t == "code.function"]
    assert len(fn["body_excerpt"]) == 800 and "v4" not in fn["body_excerpt"]
    first, *rest = [p for t, _, p in facts if t == "code.chunk"]
    assert first["start_line"] == 4  # the excerpt shows lines 1-3 whole, line 4 (v3) in part
    assert first["text"].startswith("    v3 = ") and "quokka" in rest[-1]["text"]


def test_a_definition_nested_past_the_excerpt_keeps_its_own_document() -> None:
    body = [f"    step_{n} = {n}" for n in range(2, 30)]
    src = "\n".join(["def outer():", *body, "    def inner():", "        return 'wombat'",
                     "    tail_marker = inner()", "    return tail_marker"]) + "\n"
    facts, _ = facts_of("python", src.encode())
    joined = "\n".join(chunk_texts(facts))
    assert "    step_29 = 29" in joined.split("\n") and "    tail_marker = inner()" in joined
    assert "wombat" not in joined and "def inner" not in joined
    [inner] = [p for t, k, p in facts if t == "code.function" and k == "outer.inner"]
    assert inner["body_excerpt"] == "return 'wombat'"


ZOD_LIKE = """\
import * as core from "../core/index.js";

export const ZodType = core.$constructor("ZodType", (inst, def) => {
  core.$ZodType.init(inst, def);
  inst.def = def;
});

export const string = (params) => core._string(ZodString, params);

export { ZodType as Schema };
"""


def test_a_file_of_factory_constants_is_chunked() -> None:
    facts, _ = facts_of("javascript", ZOD_LIKE.encode())
    assert uncovered(ZOD_LIKE, facts) == []
    joined = "\n".join(chunk_texts(facts))
    assert 'export const ZodType = core.$constructor("ZodType", (inst, def) => {' in joined
    assert "  inst.def = def;" in joined
    assert "export { ZodType as Schema };" in joined
    assert "core._string(ZodString" not in joined  # `string` is a function of its own


MACROS_RS = """\
//! Extractors, all made by one macro.

pub use self::rejection::*;
pub use crate::extract::{Json, Path};

macro_rules! define_rejection {
    ($name:ident, $body:expr) => {
        pub struct $name;
    };
}

define_rejection!(MissingJsonContentType, "Expected request with `Content-Type: application/json`");
define_rejection!(InvalidFormContentType, "Form requests must have a form content type");
"""


def test_a_file_of_macros_and_re_exports_is_chunked() -> None:
    facts, _ = facts_of("rust", MACROS_RS.encode())
    assert uncovered(MACROS_RS, facts) == []
    [chunk] = [p for t, _, p in facts if t == "code.chunk"]
    assert (chunk["start_line"], chunk["end_line"], chunk["language"]) == (1, 13, "rust")
    assert "define_rejection!(MissingJsonContentType" in chunk["text"]


@pytest.mark.parametrize("name,language", [("sample.py", "python"), ("sample.rs", "rust"),
                                           ("sample.js", "javascript"), ("sample.go", "go"),
                                           ("Sample.java", "java"), ("sample.c", "c"),
                                           ("sample.ts", "typescript")])
def test_every_fixture_line_with_a_word_is_in_a_document(name: str, language: str) -> None:
    src = (FIXTURES / name).read_bytes()
    facts, _ = facts_of(language, src)
    leads = _lead_lines(src.decode(), facts)
    assert uncovered(src.decode(), facts, leads) == []


def _lead_lines(src: str, facts: list[Fact]) -> set[int]:
    """Comment and attribute lines right above a definition: its document holds them
    (doc comments) or they only qualify it (attributes, decorators)."""
    lines = src.split("\n")
    lead: set[int] = set()
    for start, _ in spans(facts, SPANNED):
        n = start - 1
        while n >= 1 and lines[n - 1].strip().startswith(("//", "/*", "*", "#[", "@", "#")):
            lead.add(n)
            n -= 1
    return lead


# -- the property ----------------------------------------------------------------------


@dataclass
class Source:
    """A generated file and the lines that lead a definition (doc comments,
    decorators, attributes: in the definition's document, not in a chunk)."""
    lines: list[str] = field(default_factory=list)
    lead: set[int] = field(default_factory=set)

    def add(self, *lines: str, lead: bool = False) -> None:
        for line in lines:
            self.lines.append(line)
            if lead:
                self.lead.add(len(self.lines))

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True).map(lambda s: "n_" + s)
sizes = st.integers(min_value=0, max_value=70)


@st.composite
def python_block(draw: st.DrawFn, out: Source) -> None:
    kind = draw(st.sampled_from(["import", "constant", "function", "class", "comment",
                                 "statement", "table"]))
    name = draw(names)
    if kind == "import":
        out.add(f"from pkg.{name} import {name}_a, {name}_b")
    elif kind == "constant":
        out.add(f"{name.upper()} = {name}_factory(1, 2)")
    elif kind == "function":
        if draw(st.booleans()):
            out.add(f"@{name}_decorator", lead=True)
        out.add(f"def {name}(x):", *[f"    {name}_y{i} = x + {i}" for i in range(draw(sizes) % 30)],
                "    return x")
    elif kind == "class":
        out.add(f"class {name.title()}:", f'    """The {name} class."""')
        for i in range(draw(sizes)):
            out.add(f"    attr_{i} = {i}")
        if draw(st.booleans()):
            out.add("", f"    def {name}_method(self):", "        return self")
    elif kind == "comment":
        out.add(f"# about {name}")
    elif kind == "statement":
        out.add(f"register({name})")
    else:
        out.add(f"{name} = {{", *[f'    "k{i}": {i},' for i in range(draw(sizes))], "}")


@st.composite
def javascript_block(draw: st.DrawFn, out: Source) -> None:
    kind = draw(st.sampled_from(["import", "schema", "function", "class", "comment", "export"]))
    name = draw(names)
    if kind == "import":
        out.add(f'import {{ {name} }} from "./{name}.js";')
    elif kind == "schema":
        out.add(f"export const {name} = z.object({{",
                *[f"  f{i}: z.string()," for i in range(draw(sizes))], "});")
    elif kind == "function":
        if draw(st.booleans()):
            out.add(f"/** Makes a {name}. */", lead=True)
        out.add(f"export function {name}(a) {{",
                *[f"  a.{name}_f{i} = {i};" for i in range(draw(sizes) % 30)], "  return a;", "}")
    elif kind == "class":
        out.add(f"class {name.title()} {{")
        for i in range(draw(sizes)):
            out.add(f"  field{i} = {i};")
        out.add(f"  {name}() {{", "    return this;", "  }", "}")
    elif kind == "comment":
        out.add(f"// about {name}", "")  # a blank line: it leads nothing
    else:
        out.add(f"module.exports.{name} = {name};")


@st.composite
def rust_block(draw: st.DrawFn, out: Source) -> None:
    kind = draw(st.sampled_from(["use", "macro", "call", "function", "struct", "impl",
                                 "const", "comment"]))
    name = draw(names)
    if kind == "use":
        out.add(f"pub use crate::{name}::{{{name}_a, {name}_b}};")
    elif kind == "macro":
        out.add(f"macro_rules! {name} {{", "    ($x:ident) => {", "        pub struct $x;",
                "    };", "}")
    elif kind == "call":
        out.add(f"define_rejection!({name.title()}, \"{name} failed\");")
    elif kind == "function":
        if draw(st.booleans()):
            out.add(f"/// Makes a {name}.", lead=True)
        if draw(st.booleans()):
            out.add("#[inline]", lead=True)
        out.add(f"pub fn {name}() -> u32 {{",
                *[f"    let v{i} = {i};" for i in range(draw(sizes) % 9)], "    0", "}")
    elif kind == "struct":
        out.add("#[derive(Debug)]", lead=True)
        out.add(f"pub struct {name.title()} {{",
                *[f"    f{i}: u32," for i in range(draw(sizes))], "}")
    elif kind == "impl":
        out.add(f"impl {name.title()} {{", f"    // the {name} plain comment",
                f"    pub fn {name}(&self) -> u32 {{", "        1", "    }", "}")
    elif kind == "const":
        out.add(f"const {name.upper()}: u32 = {len(name)};")
    else:
        out.add(f"// {name}", "")


BLOCKS = {"python": python_block, "javascript": javascript_block, "rust": rust_block}


@st.composite
def source_files(draw: st.DrawFn) -> tuple[str, Source]:
    language = draw(st.sampled_from(sorted(BLOCKS)))
    out = Source()
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        draw(BLOCKS[language](out))
        out.add(*[""] * draw(st.integers(min_value=0, max_value=2)))
    return language, out


@settings(max_examples=60, deadline=None)
@given(source_files())
def test_every_line_with_a_word_is_in_a_definition_or_a_chunk(
        generated: tuple[str, Source]) -> None:
    language, source = generated
    src = source.text
    facts, _ = facts_of(language, src.encode())
    assert uncovered(src, facts, source.lead) == []
    chunk_spans = spans(facts, ("code.chunk",))
    assert chunk_spans == sorted(chunk_spans)
    for (_, end), (start, _) in zip(chunk_spans, chunk_spans[1:], strict=False):
        assert end < start  # no two chunks share a line
    for start, end in chunk_spans:
        assert end - start < CHUNK_LINES
    assert all(len(text) <= CHUNK_CHARS for text in chunk_texts(facts))
    lead_in_chunks = {n for n in source.lead
                      if any(s <= n <= e for s, e in chunk_spans)
                      and source.lines[n - 1] in "\n".join(chunk_texts(facts)).split("\n")}
    assert lead_in_chunks == set()  # a doc comment is its definition's, not a chunk's
    assert unshown(src, facts, source.lead) == []
    assert extract(language, src.encode()) == extract(language, src.encode())


def unshown(src: str, facts: list[Fact], lead: set[int]) -> list[str]:
    """Lines holding a word that no document's text shows (a definition's first line
    and its lead lines are its signature, name, doc comment, decorators)."""
    texts = []
    starts = set()
    for t, _, p in facts:
        if t == "code.chunk":
            texts.append(p["text"])
        elif t in ("code.function", "code.type", "code.constant"):
            starts.add(p["start_line"])
            texts += [str(p.get(f) or "") for f in ("signature", "docstring", "body_excerpt",
                                                      "value")]
    shown = "\n".join(texts)
    return [line for n, line in enumerate(src.split("\n"), 1)
            if _WORDY.search(line) and n not in lead and n not in starts
            and line.strip().strip("\"'").rstrip("{:;, ") not in shown]
