"""One source file -> facts: parse, run the language's query, nest, describe.

The result depends only on (language, file bytes, EXTRACTOR_VERSION), which is
what the parse cache is keyed by. Facts are (event_type, key, canonical JSON
payload) records in source order (see FACTS_FORMAT); a key is the source id
less "path::", with an ordinal for a repeat. The scraper adds the path and the
timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from operator import itemgetter
from typing import Any

from tree_sitter import Language as Grammar
from tree_sitter import Node, Parser, Query, QueryCursor

from kenning.eventlog.events import canonical_bytes
from kenning.scrapers.code.chunks import Chunk, chunks
from kenning.scrapers.code.languages import Language, Syntax, registry, squash, text
from kenning.scrapers.code.plain import is_plain, windows
from kenning.scrapers.versions import VERSIONS

# the facts a file yields change with the code scraper's version (bump it there)
EXTRACTOR_VERSION = VERSIONS["code"]

# "defined": a Go `type Celsius float64` (a new type, not an alias of its underlying one)
TYPE_KINDS = frozenset({"class", "struct", "enum", "trait", "interface", "union", "module",
                        "alias", "defined"})
_CONTAINERS = TYPE_KINDS - {"alias", "defined"} | {"function", "namespace", "impl"}
_IN_TYPE = _CONTAINERS - {"function", "namespace"} | {"type"}  # a function here is a method
_PRIORITY = {"function": 0, "constant": 2, "field": 2}  # lower wins when two kinds share a node
EXCERPT_LINES = 15
EXCERPT_CHARS = 800


@dataclass(slots=True)
class _Item:
    kind: str
    node: Node
    start: int
    end: int
    name: str = ""
    qualifier: list[str] = field(default_factory=list)
    caps: dict[str, list[Node]] = field(default_factory=dict)
    parent: _Item | None = None
    qualified: str = ""
    children: list[_Item] = field(default_factory=list)
    start_line: int = 0
    end_line: int = 0
    kept: bool = True  # False: an "attribute" that is no class's field (see _place)
    shown_end: int | None = None  # the last line its document shows whole (None: to its end)


class _Compiled:
    def __init__(self, language: Language) -> None:
        self.language = language
        grammar = Grammar(language.grammar())
        self.parser = Parser(grammar)
        source_path = resources.files("kenning.scrapers.code") / "queries" / f"{language.query}.scm"
        source = source_path.read_text("utf-8")
        self.query = Query(grammar, source)
        self.roles = _roles(self.query)
        # the default callee (the @call.name text) needs no language hook: _calls inlines it
        self.plain_callee = getattr(type(language), "callee", None) is Syntax.callee


_compiled: dict[str, _Compiled] = {}


def compiled(language: str) -> _Compiled:
    if language not in _compiled:
        _compiled[language] = _Compiled(registry()[language])
    return _compiled[language]


def parse_and_query(language: str, src: bytes) -> tuple[Node, list[Any]]:
    """The bare tree-sitter work (what the benchmark's baseline loop does)."""
    c = compiled(language)
    root = c.parser.parse(src).root_node
    return root, QueryCursor(c.query).matches(root)


def extract(language: str, src: bytes) -> tuple[bytes, bool]:
    """Facts of one file as JSON, and whether the parse had errors."""
    if is_plain(language):  # no grammar: the file's lines, as chunks
        lines = src.decode("utf-8", "replace").split("\n")
        return _encoded(_chunk_facts(windows(lines, language)), language), False
    c = compiled(language)
    lang = c.language
    root, matches = parse_and_query(language, src)
    defs, imports, calls = _collect(c, matches, src)
    _nest(defs, calls)
    facts: list[list[Any]] = []
    row, at = 1, 0  # tree-sitter counts rows by "\n": count them up to each (sorted) start
    for item in defs:
        row += src.count(b"\n", at, item.start)
        at = item.start
        item.start_line = row
        item.end_line = item.node.end_point[0] + 1  # not counted: a class spans its methods
    for item in defs:
        if item.kept:
            facts.extend(_describe(lang, item, src))
    for node, caps in imports:
        line = node.start_point[0] + 1
        for imp in lang.imports(node, caps, src):
            payload = {**imp, "line": line, "language": language}
            facts.append(["code.import", f"import:{imp['module']}", payload])
    lines = src.decode("utf-8", "replace").split("\n")
    facts.extend(_chunk_facts(chunks(lines, _spans(lang, defs, src))))
    encoded = [_encoded(facts, language)]
    keys, payloads = _calls(c, calls, src, language)
    if len(set(keys)) < len(keys):  # only if _clean made two callers one
        keys = _numbered(keys)
    encoded.extend([f"code.call\0{key}\0".encode() + data
                    for key, data in zip(keys, payloads, strict=True)])
    for item in defs:  # parent <-> children cycles: freed now, without the cyclic GC
        item.parent = None
        item.children = []
    return b"\n".join(e for e in encoded if e), root.has_error


def _chunk_facts(found: list[Chunk]) -> list[list[Any]]:
    return [["code.chunk", f"chunk:{chunk.start_line}",
             {"start_line": chunk.start_line, "end_line": chunk.end_line, "text": chunk.text}]
            for chunk in found]


def _encoded(facts: list[list[Any]], language: str) -> bytes:
    """Facts in FACTS_FORMAT, each payload with its language; a repeated key numbered."""
    lines = []
    seen: dict[str, int] = {}
    for event_type, key, payload in facts:  # payloads leave as canonical JSON: the worker
        payload.setdefault("language", language)  # pays for encoding
        head = f"{event_type}\0{_clean(key)}"
        n = seen[head] = seen.get(head, 0) + 1
        if n > 1:
            head = f"{head}#{n}"
        lines.append(f"{head}\0".encode() + canonical_bytes(payload))
    return b"\n".join(lines)


# Facts travel (and are cached) as one record per line, three fields split by
# NUL: event type, key, payload. Canonical JSON never holds a raw newline or NUL,
# and keys are squashed identifiers. Half the cost of wrapping the JSON payloads
# in a JSON list. A fact whose (event type, key) came before in the file has its
# ordinal in the key ("f#2", "f#3", ...): keys are source ids less "path::".
FACTS_FORMAT = 3  # bump when the encoding changes (the parse cache is keyed by it)


def _numbered(keys: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for key in keys:
        n = seen[key] = seen.get(key, 0) + 1
        out.append(key if n == 1 else f"{key}#{n}")
    return out


def decode_facts(blob: bytes) -> list[tuple[str, str, str]]:
    """[(event_type, key, canonical JSON payload)] in source order."""
    if not blob:
        return []
    fields = iter(blob.decode("utf-8").replace("\n", "\0").split("\0"))
    return list(zip(fields, fields, fields, strict=True))


def _clean(key: str) -> str:
    return key.replace("\0", " ").replace("\n", " ") if "\0" in key or "\n" in key else key


def _roles(query: Query) -> list[tuple[str, str] | None]:
    """Per pattern, its one @def.<kind>/@import/@call capture name and that role.

    None where a pattern does not have exactly one (_collect then scans the
    match's captures in order, as for any capture dict)."""
    roles: list[tuple[str, str] | None] = []
    for pattern in range(query.pattern_count):
        found = []
        for index in range(query.capture_count):
            name = query.capture_name(index)
            if not (name.startswith("def.") or name in ("import", "call")):
                continue
            try:
                quantifier = query.capture_quantifier(pattern, index)
            except SystemError:  # tree-sitter 0.25 raises on "zero" (not in this pattern)
                continue
            if quantifier is not None:
                found.append((name, quantifier))
        if len(found) == 1 and found[0][1] == "":  # exactly one node, always present
            name = found[0][0]
            roles.append((name, "def" if name.startswith("def.") else name))
        else:
            roles.append(None)
    return roles


# a call site: [start, -end, node, captures, caller], in (start, -end) order (the
# nesting sweep's); the caller is filled in by the sweep
_Call = list[Any]
_SPAN = itemgetter(0, 1)


def _collect(c: _Compiled, matches: list[Any], src: bytes) -> tuple[
        list[_Item], list[tuple[Node, dict[str, list[Node]]]], list[_Call]]:
    lang = c.language
    roles = c.roles
    defs: dict[tuple[int, int], _Item] = {}
    imports: dict[tuple[int, int], tuple[Node, dict[str, list[Node]]]] = {}
    calls: dict[tuple[int, int], _Call] = {}
    for pattern, caps in matches:
        role = roles[pattern]
        if role is not None:
            nodes = caps.get(role[0])
            if nodes:
                node = nodes[0]
                what = role[1]
                if what == "call":
                    key = (node.start_byte, node.end_byte)
                    if key not in calls:
                        calls[key] = [key[0], -key[1], node, caps, ""]
                elif what == "def":
                    _define(lang, defs, role[0], node, caps, src)
                else:
                    imports.setdefault((node.start_byte, node.end_byte), (node, caps))
                continue
        for capture, nodes in caps.items():  # the general case: the first role capture
            if capture.startswith("def."):
                _define(lang, defs, capture, nodes[0], caps, src)
                break
            if capture == "import":
                node = nodes[0]
                imports.setdefault((node.start_byte, node.end_byte), (node, caps))
                break
            if capture == "call":
                node = nodes[0]
                key = (node.start_byte, node.end_byte)
                if key not in calls:
                    calls[key] = [key[0], -key[1], node, caps, ""]
                break
    ordered = sorted(defs.values(), key=lambda i: (i.start, -i.end))
    return ordered, [imports[k] for k in sorted(imports)], sorted(calls.values(), key=_SPAN)


def _define(lang: Language, defs: dict[tuple[int, int], _Item], capture: str, node: Node,
            caps: dict[str, list[Node]], src: bytes) -> None:
    kind = lang.refine_kind(capture[4:], node, src)
    if kind is None:
        return
    key = (node.start_byte, node.end_byte)
    old = defs.get(key)
    if old is not None and _PRIORITY.get(old.kind, 1) <= _PRIORITY.get(kind, 1):
        return
    name_nodes = caps.get("name")
    if not name_nodes:
        return
    item = _Item(kind, node, key[0], key[1], caps=caps)
    name = name_nodes[0]
    raw = src[name.start_byte:name.end_byte].decode("utf-8", "replace")
    if raw.isidentifier() and len(raw) <= 200:  # what _name makes of it, at once
        item.name = raw
    else:
        _name(item, raw)
    for q in caps.get("qualifier", []):
        item.qualifier.append(_strip_generics(text(q, src)))
    if item.name:
        defs[key] = item


def _strip_generics(name: str) -> str:
    name = squash(name, 200)
    if "<" in name and not name.startswith("operator"):
        name = name[:name.index("<")]
    return name.lstrip("*&").strip()


def _name(item: _Item, raw: str) -> None:
    # "prototype": JavaScript's `Foo.prototype.bar = function` is Foo's method bar
    parts = [p for p in _strip_generics(raw).replace("::", ".").split(".")
             if p and p != "prototype"]
    if not parts:
        return
    item.name = parts[-1]
    item.qualifier = parts[:-1]


def _nest(defs: list[_Item], calls: list[_Call]) -> None:
    """Parents by byte-range nesting: one sweep over definitions and calls, both in
    (start, -end) order, a definition before a call on the same range; a call
    records its caller's qualified name."""
    stack: list[_Item] = []
    i, n = 0, len(defs)
    for call in calls:
        start, neg_end = call[0], call[1]
        while i < n:
            item = defs[i]
            if item.start > start or (item.start == start and -item.end > neg_end):
                break
            _place(item, stack)
            i += 1
        end = -neg_end
        while stack and stack[-1].end <= start:
            stack.pop()
        while stack and stack[-1].end < end:  # overlapping but not nested (error trees)
            stack.pop()
        call[4] = stack[-1].qualified if stack else "<module>"
    while i < n:
        _place(defs[i], stack)
        i += 1


def _place(item: _Item, stack: list[_Item]) -> None:
    while stack and stack[-1].end <= item.start:
        stack.pop()
    while stack and stack[-1].end < item.end:  # overlapping but not nested (error trees)
        stack.pop()
    parent = stack[-1] if stack else None
    if item.kind == "attribute":  # `self.x = ...` in a method: a field of the method's class
        parent = next((s for s in reversed(stack) if s.kind != "function"), None)
        if parent is None or parent.kind not in _IN_TYPE \
                or any(c.name == item.name for c in parent.children):
            item.kept = False  # not in a class, or the class has that name already
            return
    item.parent = parent
    prefix = [parent.qualified] if parent else []
    item.qualified = ".".join(prefix + item.qualifier + [item.name])
    if parent is not None:
        parent.children.append(item)
    if item.kind in _CONTAINERS:
        stack.append(item)


def _spans(lang: Language, defs: list[_Item], src: bytes) -> list[tuple[int, int]]:
    """The lines each definition's own document holds, which chunks leave out: from
    the decorators, attributes and doc comments right above it to the last line its
    body excerpt shows whole. The rest of a long body (past EXCERPT_LINES or
    EXCERPT_CHARS) is chunked, so each of its lines is in some document; a
    definition nested in that rest keeps its own span."""
    spans = []
    for item in defs:
        if item.kind == "function":
            end = item.end_line if item.shown_end is None else item.shown_end
        elif item.kind in TYPE_KINDS:
            end = item.shown_end if item.shown_end is not None \
                else min(item.end_line, item.start_line + EXCERPT_LINES)  # an alias: no body
        else:
            continue
        spans.append((_lead_line(lang, item.node, src), end))
    return spans


def _lead_line(lang: Language, node: Node, src: bytes) -> int:
    """The first line of a definition with what leads it: its wrappers (a Python
    decorated definition, a JavaScript export), then the attributes and doc
    comments just above (no blank line between), as its doc comment is read."""
    outer = lang.outer(node)
    row = outer.start_point[0]
    prev = outer.prev_named_sibling
    while prev is not None and row - prev.end_point[0] <= 1:
        attribute = prev.type in lang.skip_before_doc or prev.type in lang.attribute_types
        doc = prev.type in lang.comment_types and not lang.docstring_in_body \
            and lang.is_doc_comment(text(prev, src))
        if not (attribute or doc):
            break
        row = prev.start_point[0]
        prev = prev.prev_named_sibling
    return row + 1


def _excerpt(body: Node | None, src: bytes,
             after_docstring: bool = False) -> tuple[str, int | None]:
    """The body's first EXCERPT_LINES lines (within its first 4 KB and EXCERPT_CHARS),
    less the indentation of the line it starts on: what a reader sees first, cheaply.
    And the last source line it shows whole (None: it shows the body to its end), so
    chunks take the rest. `after_docstring`: the body opens with a docstring (a fact
    of its own), skip it."""
    if body is None:
        return "", None
    if after_docstring and body.named_child_count < 2:
        return "", None  # nothing but the docstring
    first = body.named_child(1) if after_docstring else body
    start = first.start_byte
    line_start = src.rfind(b"\n", 0, start) + 1
    line = src[line_start:start]
    margin = line[:len(line) - len(line.lstrip())].decode("utf-8", "replace")
    stop = min(body.end_byte, start + 4096)
    parts = src[start:stop].decode("utf-8", "replace").split("\n", EXCERPT_LINES)
    shown = parts[:EXCERPT_LINES]
    if margin:
        shown = shown[:1] + [p[len(margin):] if p.startswith(margin) else p for p in shown[1:]]
    excerpt = "\n".join(shown)
    if len(parts) <= EXCERPT_LINES and stop == body.end_byte and len(excerpt) <= EXCERPT_CHARS:
        return excerpt.strip(), None
    whole = used = 0  # the lines shown whole: within EXCERPT_CHARS, not cut at 4 KB
    for i, part in enumerate(shown):
        used += len(part) + (1 if i else 0)
        if used > EXCERPT_CHARS or (i == len(parts) - 1 and stop < body.end_byte):
            break
        whole += 1
    return excerpt[:EXCERPT_CHARS].strip(), first.start_point[0] + whole


def _signature(lang: Language, node: Node, body: Node | None, src: bytes) -> str:
    """The definition's text up to its body, comments left out: it ends where the last
    non-comment node before the body ends (found walking back from the body, up
    through whatever holds it, such as an arrow function's value). It starts after
    the attributes a definition holds (Java, C#, PHP): decorators lists them."""
    comments = lang.comment_types
    start = _after_attributes(node, lang.attribute_types, comments) \
        if lang.attribute_types else node.start_byte
    end = node.end_byte
    if body is not None and body.start_byte > node.start_byte:
        end = node.start_byte
        at: Node | None = body
        while at is not None and at != node:
            before = at.prev_sibling
            while before is not None and before.type in comments:
                before = before.prev_sibling
            if before is not None:
                end = before.end_byte
                break
            at = at.parent
        if at is None:  # the body is not inside the definition
            end = node.end_byte
    sig = " ".join(src[start:end].decode("utf-8", "replace").split())[:500]  # squash
    return sig.rstrip("{:;= ").rstrip()


def _after_attributes(node: Node, attributes: frozenset[str], comments: frozenset[str]) -> int:
    """Where a definition's text starts past its leading attributes and comments, also
    inside a first child that opens with them (Java's `modifiers`)."""
    for child in node.children:
        if child.type in attributes or child.type in comments:
            continue
        first = child.child(0) if child.child_count else None  # child(0) raises on a leaf
        if first is not None and first.type in attributes:
            inner = next((c for c in child.children
                          if c.type not in attributes and c.type not in comments), None)
            if inner is None:
                continue  # nothing but attributes
            return inner.start_byte
        return child.start_byte
    return node.start_byte


def _container(item: _Item) -> tuple[str | None, str | None]:
    parent = item.parent
    if item.qualifier:
        prefix = parent.qualified + "." if parent else ""
        return prefix + ".".join(item.qualifier), "type"
    if parent is None:
        return None, None
    return parent.qualified, parent.kind


def _describe(lang: Language, item: _Item, src: bytes) -> list[list[Any]]:
    """Facts of one definition: [event_type, key, payload dict]."""
    node = item.node
    container, container_kind = _container(item)
    in_type = container_kind in _IN_TYPE
    start_line = item.start_line
    end_line = item.end_line
    kind = item.kind
    if kind == "function":
        fn = lang.function_node(node)
        body = lang.body(fn)
        params = lang.parameters(fn)
        signature = _signature(lang, node, body, src)
        parameters = lang.parameter_texts(params, src) if params else []
        return_type = lang.return_type(fn, src)
        docstring = lang.docstring(node, src)
        decorators = lang.decorators(node, src)
        flags = lang.flags(node, item.name, src, in_type, decorators)
        excerpt, item.shown_end = _excerpt(body, src,
                                           docstring is not None and lang.docstring_in_body)
        name, qualified = item.name, item.qualified
        payload = {
            "name": name, "qualified_name": qualified, "container": container,
            "start_line": start_line, "end_line": end_line,
            "kind": "method" if in_type else "function",
            "signature": signature, "parameters": parameters,
            "return_type": return_type, "docstring": docstring, "decorators": decorators,
            **flags,
            "body_excerpt": excerpt,
        }
        out: list[list[Any]] = [["code.function", qualified, payload]]
        if in_type:
            out.append(["code.member", qualified,
                        {"name": name, "qualified_name": qualified, "container": container,
                         "start_line": start_line, "end_line": end_line,
                         "member_kind": "method", "line": start_line}])
        return out
    base = {"name": item.name, "qualified_name": item.qualified, "container": container,
            "start_line": start_line, "end_line": end_line}
    if kind in TYPE_KINDS:
        body = lang.body(node)
        members: list[str] = []
        for child in item.children:
            if child.kind in ("function", "field", "attribute", "constant") \
                    and child.name not in members:
                members.append(child.name)
        signature = _signature(lang, node, body, src)
        docstring = lang.docstring(node, src)
        excerpt, item.shown_end = _excerpt(body, src,
                                           docstring is not None and lang.docstring_in_body)
        payload = {**base, "kind": kind, "signature": signature,
                   "docstring": docstring, "members": members,
                   "decorators": lang.decorators(node, src), "body_excerpt": excerpt}
        return [["code.type", item.qualified, payload]]
    type_node = node.child_by_field_name("type")
    if type_node is None and node.parent is not None and kind in ("constant", "field"):
        type_node = node.parent.child_by_field_name("type")  # `int x = 1, y;` declarators
    if kind == "constant":
        value = lang.constant_value(node)
        payload = {**base, "value": squash(text(value, src), 200) if value else None,
                   "type": squash(text(type_node, src).lstrip(":").strip(), 200) or None,
                   "line": base["start_line"]}
        return [["code.constant", item.qualified, payload]]
    if kind in ("field", "attribute"):
        payload = {**base, "member_kind": "field", "line": base["start_line"],
                   "type": squash(text(type_node, src).lstrip(":").strip(), 200) or None}
        return [["code.member", item.qualified, payload]]
    return []  # namespaces and impl blocks only qualify what they hold


def _calls(c: _Compiled, calls: list[_Call], src: bytes,
           language: str) -> tuple[list[str], list[bytes]]:
    """code.call facts, one per calling function (its key), in the order of its first
    call: {"caller", "calls": [{"callee", "lines"}, ...] in first-site order}."""
    lang = c.language
    plain = c.plain_callee
    seen: dict[bytes, str] = {}  # the callee text of a @call.name slice
    by_caller: dict[str, dict[str, list[int]]] = {}
    row, at = 1, 0  # tree-sitter counts rows by "\n": count them up to each (sorted) start
    for start, _end, node, caps, caller in calls:
        named = caps.get("call.name") if plain else None
        if named:
            name = named[0]
            raw = src[name.start_byte:name.end_byte]
            callee = seen.get(raw)
            if callee is None:
                callee = seen[raw] = " ".join(raw.decode("utf-8", "replace").split())[:160]
        else:
            callee = lang.callee(node, caps, src)
        if not callee:
            continue
        row += src.count(b"\n", at, start)
        at = start
        callees = by_caller.get(caller)
        if callees is None:
            by_caller[caller] = {callee: [row]}
        elif callee in callees:
            callees[callee].append(row)
        else:
            callees[callee] = [row]
    return [_clean(caller) for caller in by_caller], [
        canonical_bytes({"caller": caller, "language": language,
                         "calls": [{"callee": callee, "lines": lines}
                                   for callee, lines in callees.items()]})
        for caller, callees in by_caller.items()]
