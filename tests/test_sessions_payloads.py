"""Session events are written with shortcuts (payload JSON by hand, tokens dropped inside
list items); these tests hold them to what the plain way gives: canonical payloads,
and the same parse as from markdown-it's full token stream in its default rule order."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from fixtures.sessions import NOTES, note
from kenning.eventlog.events import canonical_json, make_event
from kenning.scrapers import sessions_parse
from kenning.scrapers.sessions import session_events
from kenning.scrapers.sessions_parse import ParsedSession

COMMIT_TIME = "2024-03-08T18:00:00Z"
TAGS = {"session-20240305-091500-start": "a" * 40}

LINES = [
    "# Session: t", "## Goals", "## Activity Log", "### 09:15 - Session Start", "### 00:10 - Note",
    "**ID**: 20240305-091500", "**Started**: 2024-03-05T14:15:00Z", "## Session Classification",
    "- [x] done", "- [ ] todo", "- item", "* star", "1. one", "2) two", "   - nested", "  more",
    "    - deeper", "**Key Decisions:**", "**Work Completed:** inline", "```", "~~~", "> - quoted",
    "> # quoted heading", "- # heading in an item", "- ```", "", "", "text", '- "q" \\ ü 日本 \x01',
    "## Sëction \"x\"", "- Work Type: x", "<div>", "\t- tabbed", "  ", " \t ", "\t\tcode",
    "#no heading", "-no item", "+ plus", "10. ten", "  > quote in item", "   ```", "- - same line",
    "> ```", "> > ~~~",
]


def _check(path: str, text: str) -> None:
    events, _ = session_events(path, text.encode(), COMMIT_TIME, TAGS)
    for e in events:
        again = make_event(e.event_type, e.timestamp, e.source_id, e.source_file, e.payload)
        assert again == e  # the data is canonical_json of its own payload
        assert e.data == canonical_json(e.payload)


def test_fixture_payloads_are_canonical() -> None:
    for name in (*NOTES, "init.md"):
        _check(f"layer/sessions/{name}", note(name))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LINES), max_size=40))
def test_generated_payloads_are_canonical(lines: list[str]) -> None:
    _check("layer/sessions/20240305-091500.md", "\n".join(lines))


# markdown-it as configured before the shortcuts: default rule order, every token kept
PLAIN = MarkdownIt("commonmark").disable(["inline", "lheading", "code", "reference",
                                          "html_block", "hr"])


def _full_parse(text: str) -> ParsedSession:
    """parse_session over markdown-it's complete token stream (no shortcuts)."""
    def block_tokens(text: str) -> tuple[list[Token], bool]:
        tokens = PLAIN.parse(text)
        return tokens, any(t.type == "heading_open" for t in tokens)

    shortcut = sessions_parse._block_tokens
    sessions_parse._block_tokens = block_tokens
    try:
        return sessions_parse.parse_session(text)
    finally:
        sessions_parse._block_tokens = shortcut


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LINES), max_size=40), st.sampled_from(["\n", "\r\n", "\r"]))
def test_dropping_tokens_inside_items_changes_nothing(lines: list[str], newline: str) -> None:
    text = newline.join(lines)
    assert sessions_parse.parse_session(text) == _full_parse(text)


def test_fixtures_parse_as_with_every_token() -> None:
    for name in (*NOTES, "init.md"):
        assert sessions_parse.parse_session(note(name)) == _full_parse(note(name))
