"""Session notes as structure: markdown text in, a ParsedSession out (no git, no time zones).

Three shapes share one walk over markdown-it's block tokens: a header block
(`**ID**:`, `**Started**:` lines under the first heading), YAML front matter,
or free-form markdown. Sections (`##`), timed blocks (`### HH:MM - …`) and
bold labels (`**Key Decisions:**`) set what kind the items that follow are;
every top-level list item and every loose paragraph is one item (a label on
the line right after an item or a paragraph line, which CommonMark adds to
that item or paragraph, still starts a new block). Inline parsing is switched
off: items keep their markdown source, and the block walk alone is several
times faster. Tokens inside a list item are never read (an item is its source
lines), so the block state keeps only the item's own opening token:
markdown-it still parses the item's content, which decides where the item
ends, but without building the nested tokens.

Problems never raise: they are collected as (line, reason) and the caller
turns them into one warning per file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import yaml
from markdown_it import MarkdownIt, rules_block
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from yaml.constructor import SafeConstructor

# tasklists off is the default, said outright: list items look the option up, and a
# missing key costs a KeyError inside markdown-it's options mapping every time.
_md = MarkdownIt("commonmark", {"tasklists": False})
# Items keep their source text, so the inline pass is not needed (a third of the cost).
# Setext headings are off too: a paragraph over a `---` line is no heading in a note.
# Indented code, link reference definitions, HTML blocks and rules mean nothing here.
_md.disable(["inline", "lheading", "code", "reference", "html_block", "hr"])
# Every line tries the block rules in order, and most lines of a note are list items or
# headings. A rule matches only on its own first character (list: -*+ or a digit,
# heading: #, fence: ` or ~, blockquote: >) and changes nothing when it does not, so
# trying list and heading first finds the same rule with fewer calls; each keeps the
# chains it can terminate (test_sessions_payloads compares with the default order).
for _name, _rule in (("list", rules_block.list_block), ("heading", rules_block.heading)):
    _md.block.ruler.disable(_name)
    _md.block.ruler.before("fence", f"{_name}_first", _rule,
                           {"alt": ["paragraph", "reference", "blockquote"]})

# Label text -> item kind. First match wins, so "Discussion Context" is context and
# "Patterns Observed" is a pattern; whole words only ("Observable Scry" is no pattern).
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(r"\b(?:" + words + r")\b", re.I)) for kind, words in (
        ("decision", r"decisions?|decided|beliefs?"),
        ("pattern", r"patterns?|observations?|observed|insights?|learnings?|learned|lessons?"),
        ("challenge", r"challenges?|problems?|issues?|blockers?|risks?|difficult(?:y|ies)"),
        ("work", r"work|done|completed|accomplished|progress|implemented"),
        ("context", r"context|git activity|commits|prompts|discussion|background"),
        ("note", r"notes?"),
    )
)
_TIMED = re.compile(
    r"^(\d{1,2}):(\d{2})(?::\d{2})?(?:\s*[-\u2013]\s*\d{1,2}:\d{2}(?::\d{2})?)?"
    r"\s*(?:[-\u2013\u2014:|]\s*)?(.*)$"
)
_LABEL = re.compile(r"^\*\*([^*\n]{1,120}?)\s*(:)?\s*\*\*[ \t]*(:)?[ \t]*(.*)$", re.S)
_FIELD = re.compile(r"^\s*(?:[-*+]\s+)?\*\*([^*\n]{1,60}?)\s*:?\s*\*\*\s*:?\s*(.*?)\s*$")
_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_QUOTE = re.compile(r"^ {0,3}> ?")
_CHECKBOX = re.compile(r"^\[([ xX])\](?:[ \t]+|$)")
_COUNT_SUFFIX = re.compile(r"\s*(?::\s*\d+|\(\d+\))\s*$")
_NEWLINES = re.compile(r"\r\n?")
_STAMP = re.compile(r"(?<!\d)(\d{8})-(\d{6})(?!\d)")
_PLACEHOLDER = re.compile(r"^[_*]\s*(?:no|none)\b.*[_*]$", re.I | re.S)
_SURROGATE = re.compile("[\ud800-\udfff]")
# PyYAML's scanner takes time quadratic in the depth of flow collections (1.2 s at 3,000
# levels before its parser runs out of stack), and no front matter nests that deep.
_MAX_FLOW_DEPTH = 100


@dataclass
class Block:
    """One timed entry of the activity log (`### HH:MM - title`)."""

    index: int
    minutes: int  # local minutes after midnight, as written
    title: str
    line: int


@dataclass
class Item:
    kind: str  # goal, decision, pattern, challenge, work, context, note
    section: str  # the heading or bold label it sits under, as written
    block: int | None  # index into ParsedSession.blocks, None outside the log
    after_block: int | None  # the last block before it (its time), None before any
    line: int  # 1-based line where it starts
    text: str
    completed: bool | None = None  # goals only


@dataclass
class ParsedSession:
    shape: str = "freeform"  # header, frontmatter or freeform
    fields: dict[str, str] = field(default_factory=dict)  # id, title, started, branch, ...
    blocks: list[Block] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    classification: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # the line each field was read from


@functools.lru_cache(maxsize=4096)  # labels repeat in every block of every note
def kind_of(label: str) -> str | None:
    for kind, pattern in _KINDS:
        if pattern.search(label):
            return kind
    return None


def local_stamp(text: str) -> datetime | None:
    """The first valid `YYYYMMDD-HHMMSS` in a session id or file name (local time)."""
    for match in _STAMP.finditer(text):
        try:
            return datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
        except ValueError:
            continue
    return None


def parse_session(text: str) -> ParsedSession:
    session = ParsedSession()
    lines = text.split("\n")
    body_start = _front_matter(lines, session)
    if body_start:
        text = "\n".join([""] * body_start + lines[body_start:])  # keep line numbers
    tokens, headings = _block_tokens(text)
    _Walker(session, lines).walk(tokens)
    if session.shape == "freeform" and ("id" in session.fields or "started" in session.fields):
        session.shape = "header"
    if not tokens:
        session.problems.append((1, "the file is empty"))
    elif not headings:
        session.problems.append((1, "no headings: read as one free-form note"))
    return session


_LIST_CLOSE = ("bullet_list_close", "ordered_list_close")


class _State(StateBlock):
    """markdown-it's block state that drops the tokens inside list items.

    The rules run as always (they decide where every block and item ends); only
    `push` differs: a token inside a list item, or a closing token other than a
    list's, goes to one scratch token that is never read (the nesting level is
    kept as markdown-it keeps it: markdown-it itself reads back no token but the
    paragraphs directly in a tight list's items, which are all inside items); and
    `getLines`, which only ever fills a token's content, skips the copy there.
    """

    def __init__(self, src: str, md: MarkdownIt, tokens: list[Token]) -> None:
        super().__init__(src, md, {}, tokens)
        self.in_item = 0  # depth of list items around the rule that pushes
        self.headings = False  # a heading anywhere, also inside an item
        self.scratch = Token("", "", 0)

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        if not self.in_item:
            if ttype == "list_item_open":
                self.in_item = 1
            elif ttype == "heading_open":
                self.headings = True
            elif nesting < 0 and ttype not in _LIST_CLOSE:  # the walk needs no other closing
                self.level -= 1
                return self.scratch
            return super().push(ttype, tag, nesting)
        if ttype == "list_item_close":
            self.in_item -= 1
        elif ttype == "list_item_open":
            self.in_item += 1
        elif ttype == "heading_open":
            self.headings = True
        self.level += nesting  # as StateBlock.push: -1 before a closing, +1 after an opening
        return self.scratch

    def getLines(self, begin: int, end: int, indent: int, keepLastLF: bool) -> str:  # noqa: N802, N803
        if self.in_item:
            return ""
        return super().getLines(begin, end, indent, keepLastLF)


def _block_tokens(text: str) -> tuple[list[Token], bool]:
    """`_md.parse(text)` without the tokens inside list items; and whether any heading."""
    text = _NEWLINES.sub("\n", text).replace("\0", "\ufffd")  # markdown-it's normalize
    tokens: list[Token] = []
    if not text:
        return tokens, False
    state = _State(text, _md, tokens)
    _md.block.tokenize(state, state.line, state.lineMax)
    return tokens, state.headings


# -- front matter ---------------------------------------------------------------


def _front_matter(lines: list[str], session: ParsedSession) -> int:
    """Reads YAML front matter into session.fields; returns the first body line.

    Safe loading only, one value at a time: PyYAML's constructors raise ValueError,
    KeyError, AttributeError, ... on an impossible or mistagged value (`2024-13-45`,
    5,000 digits, `!!bool x`), and that must cost only that value, named by its line."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    session.shape = "frontmatter"
    if end is None:
        session.problems.append((1, "front matter is never closed (no second ---)"))
        return 0
    text = "\n".join(lines[1:end])
    if _flow_depth(text) > _MAX_FLOW_DEPTH:
        session.problems.append((1, "front matter is nested too deeply"))
        return end + 1
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        session.problems.append((line, "front matter is not valid YAML"))
        return end + 1
    except RecursionError:
        session.problems.append((1, "front matter is nested too deeply"))
        return end + 1
    if root is None:
        return end + 1
    if not isinstance(root, yaml.MappingNode):
        session.problems.append((_node_line(root), "front matter is not a mapping"))
        return end + 1
    meta = _entries(root)
    git_node = meta.get("git")
    git = _entries(git_node) if isinstance(git_node, yaml.MappingNode) else {}
    for key, name in (("id", "id"), ("title", "title"), ("status", "status"), ("llm", "llm"),
                      ("started", "created")):
        _set_field(session, key, name, meta.get(name), _scalar)
    for key in ("branch", "starting_commit", "start_tag"):
        if key in git:
            _set_field(session, key, f"git.{key}", git[key], _scalar)
        else:
            _set_field(session, key, key, meta.get(key), _scalar)
    if "started" not in session.fields:
        _set_field(session, "started", "start_timestamp", meta.get("start_timestamp"),
                   _from_millis)
    _set_field(session, "tags", "tags", meta.get("tags"), _tag_list)
    return end + 1


def _flow_depth(text: str) -> int:
    """How deep `[` and `{` nest (quotes are not skipped: this is only a bound)."""
    if text.count("[") + text.count("{") <= _MAX_FLOW_DEPTH:
        return 0
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _entries(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    """A mapping's values by key, not yet constructed (keys other than plain text, and
    `<<` merges, name no field)."""
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _set_field(session: ParsedSession, key: str, name: str, node: yaml.Node | None,
               convert: Callable[[Any], str | None]) -> None:
    """session.fields[key] from the value `node` of front matter key `name`, if it reads."""
    if node is None:
        return
    try:
        text = convert(SafeConstructor().construct_object(node, deep=True))
    except Exception:  # any exception: see _front_matter
        shown = node.value if isinstance(node, yaml.ScalarNode) else node.tag
        session.problems.append(
            (_node_line(node), f"front matter {name}: cannot read {shorten(str(shown))!r}"))
        return
    if text:
        session.fields[key] = text
        session.lines[key] = _node_line(node)


def _node_line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 2  # the front matter starts on the file's line 2


def _scalar(value: Any) -> str | None:
    """A field's text; None for what is no text (lists, maps, sets, bytes, bools, null)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    text = _SURROGATE.sub("\ufffd", str(value)).strip()  # a "\ud800" escape is no UTF-8
    return text or None


def _tag_list(value: Any) -> str | None:
    if not isinstance(value, list):
        return None
    return "\n".join(t for t in (_scalar(v) for v in value) if t)


def _from_millis(value: Any) -> str | None:
    if type(value) is not int or not 0 < value < 10**14:
        return None
    return datetime.fromtimestamp(value // 1000, UTC).isoformat()


def shorten(text: str, limit: int = 60) -> str:
    """A value as a problem quotes it: a note's field may be 256 KB long."""
    return text if len(text) <= limit else text[:limit] + "..."


# -- the block walk -------------------------------------------------------------

_HEADER_KEYS = {
    "id": "id", "session id": "id", "started": "started", "created": "started",
    "start": "started", "llm": "llm", "branch": "branch", "git branch": "branch",
    "commit": "starting_commit", "starting commit": "starting_commit",
    "session tag": "start_tag", "tag": "start_tag", "start tag": "start_tag",
    "status": "status", "title": "title",
}


class _Walker:
    def __init__(self, session: ParsedSession, lines: list[str]) -> None:
        self.s = session
        self.lines = lines
        self.section = ""  # heading text of the current part
        self.kind: str | None = None  # kind of items in the current part (None: unlabelled)
        self.mode = "preamble"  # preamble, body, goals, classification
        self.block: int | None = None
        self.seen_h2 = False

    def walk(self, tokens: list[Token]) -> None:
        i, n = 0, len(tokens)
        while i < n:
            tok = tokens[i]
            if tok.type == "heading_open":
                self._heading(int(tok.tag[1:]), tokens[i + 1].content.strip(), _line(tok))
                i += 2  # open, inline (no closing tokens: see _State)
            elif tok.type == "paragraph_open":
                self._paragraph_lines(tokens[i + 1].content, _line(tok))
                i += 2
            elif tok.type in ("bullet_list_open", "ordered_list_open"):
                i = self._list(tokens, i)
            elif tok.type == "fence":
                self._fence(tok)
                i += 1
            else:
                i += 1  # code blocks, html, rules, quotes' wrappers: nothing to read

    # headings

    def _heading(self, level: int, text: str, line: int) -> None:
        text = text.strip().strip("#").strip()
        timed = _TIMED.match(text) if level >= 2 else None
        if timed and int(timed.group(1)) < 24 and int(timed.group(2)) < 60:
            index = len(self.s.blocks)
            title = timed.group(3).strip()
            self.s.blocks.append(Block(index, int(timed.group(1)) * 60 + int(timed.group(2)),
                                       title, line))
            self.block = index
            self.section, self.kind = title, kind_of(title) or "note"
            self.mode = "body"
            return
        if level == 1 and "title" not in self.s.fields and not self.seen_h2:
            title = re.sub(r"^session\s*:\s*", "", text, flags=re.I)
            if title:
                self.s.fields["title"] = title
            return
        name = _COUNT_SUFFIX.sub("", text).strip()
        low = name.lower()
        if level <= 2:
            self.seen_h2 = True
            self.block = None  # a new top-level section leaves the activity log
        self.section = name
        if low in ("goals", "goal", "session goals", "objectives"):
            self.mode, self.kind = "goals", "goal"
        elif "classification" in low:
            self.mode, self.kind = "classification", None
        elif low in ("activity log", "activity", "log"):
            self.mode, self.kind = "body", None
        else:
            self.mode = "body"
            self.kind = kind_of(name) or (self.kind if level > 2 and self.block is not None
                                          else "note")

    # paragraphs

    def _paragraph(self, content: str, line: int) -> None:
        if self.mode == "preamble" and not self.seen_h2:
            rest = self._header_fields(content, line)
            if not rest:
                return
            content = rest
        label = _LABEL.match(content)
        if label and (label.group(2) or label.group(3)):
            name = label.group(1).strip()
            self.section = name
            self.kind = kind_of(name) or self.kind or "note"
            if self.mode in ("preamble", "goals", "classification"):
                self.mode = "body"
            rest = label.group(4).strip()
            if rest:
                self._item(rest, line)
            return
        if _PLACEHOLDER.match(content.strip()):
            return
        self._item(content.strip(), line)

    def _paragraph_lines(self, content: str, line: int) -> None:
        """A paragraph, cut before every label line after its first: markdown reads a label
        right after a paragraph line as a lazy continuation, but in a note it starts a new
        block (as after a list item, see _list_item)."""
        if "\n" not in content:  # most paragraphs: one line
            self._paragraph(content, line)
            return
        lines = content.split("\n")  # one per source line (a paragraph has no blank line)
        cuts = [k for k in range(1, len(lines)) if _is_label(lines[k].strip())]
        for k, next_cut in zip([0, *cuts], [*cuts, len(lines)], strict=True):
            self._paragraph("\n".join(lines[k:next_cut]).strip(), line + k)

    def _header_fields(self, content: str, line: int) -> str:
        """`**Key**: value` lines of the header block; returns the lines that are not."""
        rest = []
        for offset, raw in enumerate(content.split("\n")):
            match = _FIELD.match(raw)
            if match is None:
                rest.append(raw)
                continue
            name = match.group(1).strip().lower()
            value = match.group(2).strip().strip("`").strip()
            key = "tags" if name in ("tags", "session tags") else _HEADER_KEYS.get(name)
            if key and value and key not in self.s.fields:
                self.s.fields[key] = value
                self.s.lines[key] = line + offset
            # other header fields (LLM, …) are not events
        return "\n".join(rest).strip()

    # lists

    def _list(self, tokens: list[Token], i: int) -> int:
        """Each top-level item (with everything nested in it) is one item."""
        depth = 0
        quotes = tokens[i].level  # block quotes around the list (lists in items are not walked)
        while i < len(tokens):
            tok = tokens[i]
            if tok.type in ("bullet_list_open", "ordered_list_open"):
                depth += 1
            elif tok.type in ("bullet_list_close", "ordered_list_close"):
                depth -= 1
                if depth == 0:
                    return i + 1
            elif tok.type == "list_item_open" and depth == 1 and tok.map:
                self._list_item(tok.map[0], tok.map[1], quotes)
            i += 1
        return i

    def _list_item(self, start: int, end: int, quotes: int) -> None:
        item = self.lines[start:end]
        if quotes:  # an item's source lines inside block quotes still hold the `>` markers
            item = [_unquote(ln, quotes) for ln in item]
        while item and not item[-1].strip():
            item.pop()
        if len(item) <= 1:  # most items: one line, no label inside
            if item:
                self._item_lines(item, start)
            return
        # A label line indented less than the item's text is no part of the item: markdown
        # reads it as a lazy continuation of the item's last paragraph, but in a note it
        # starts a new block (the items after it are its items).
        marker = _MARKER.match(item[0])
        margin = marker.end() if marker else 0
        cuts = [k for k in range(1, len(item))
                if _indent(item[k]) < margin and _is_label(item[k].strip())]
        if not cuts:
            self._item_lines(item, start)
            return
        self._item_lines(item[:cuts[0]], start)
        for k, next_cut in zip(cuts, [*cuts[1:], len(item)], strict=True):
            self._paragraph("\n".join(item[k:next_cut]).strip(), start + k + 1)

    def _item_lines(self, item: list[str], start: int) -> None:
        """One list item from its source lines (the first holds the marker)."""
        first = _MARKER.sub("", item[0], count=1).strip()
        completed = None
        check = _CHECKBOX.match(first)
        if check:
            completed = check.group(1) != " "
            first = first[check.end():].strip()
        if len(item) == 1:
            text = first
        else:
            rest = [ln.rstrip() for ln in item[1:]]
            indent = min((len(ln) - len(ln.lstrip()) for ln in rest if ln.strip()), default=0)
            text = "\n".join([first, *(ln[indent:] for ln in rest)]).strip()
        if not text:
            return
        if self.mode == "classification":
            key, sep, value = text.partition(":")
            if sep and key.strip():
                self.s.classification[key.strip()] = value.strip()
            return
        self._item(text, start + 1, completed)

    def _fence(self, tok: Token) -> None:
        if tok.map is None:
            return
        closing = tok.markup[0] * len(tok.markup)
        last = self.lines[tok.map[1] - 1] if tok.map[1] - 1 < len(self.lines) else ""
        # inside block quotes the closing line still holds the `>` markers (one per level;
        # fences inside list items are not walked, so the level counts only quotes)
        last = _unquote(last, tok.level).strip()
        if tok.map[1] - tok.map[0] < 2 or not last.startswith(closing):
            self.s.problems.append((tok.map[0] + 1, "code fence is never closed"))

    def _item(self, text: str, line: int, completed: bool | None = None) -> None:
        if not text:
            return
        if self.mode == "classification":
            for raw in text.split("\n"):
                key, sep, value = raw.lstrip("-*+ ").partition(":")
                if sep and key.strip():
                    self.s.classification[key.strip()] = value.strip()
            return
        kind = self.kind or "note"
        if self.mode == "goals":
            kind = "goal"
            completed = bool(completed)
        elif self.mode == "preamble" and self.kind is None:
            kind = "note"
        last = len(self.s.blocks) - 1 if self.s.blocks else None
        self.s.items.append(Item(kind, self.section, self.block, last, line, text,
                                 completed if kind == "goal" else None))


def _unquote(line: str, depth: int) -> str:
    """The line without its first `depth` block quote markers (a lazy line has fewer)."""
    for _ in range(depth):
        marker = _QUOTE.match(line)
        if marker is None:
            break
        line = line[marker.end():]
    return line


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_label(text: str) -> bool:
    """`**Label:**` or `**Label**:`, with or without text after it."""
    label = _LABEL.match(text)
    return label is not None and bool(label.group(2) or label.group(3))


def _line(tok: Token) -> int:
    return tok.map[0] + 1 if tok.map else 1
