"""The session notes parser and its events: exact events for each shape, time rules,
structure rules, malformed input, and generated markdown (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.sessions import note
from kenning.eventlog.events import Event
from kenning.scrapers.sessions import MAX_BYTES, session_events

COMMIT_TIME = "2024-03-08T18:00:00Z"
TAGS = {"session-20240305-091500-start": "a" * 40, "session-20240305-091500-end": "b" * 40}


def events_of(text: str | bytes, path: str = "layer/sessions/s.md",
              tags: dict[str, str] | None = None) -> tuple[list[Event], list[tuple[int, str]]]:
    data = text.encode() if isinstance(text, str) else text
    return session_events(path, data, COMMIT_TIME, tags or {})


def items(events: list[Event]) -> list[tuple[str, str, str, str]]:
    """(type, timestamp, section, text) of every item event, in file order."""
    rows = [(e.payload["line"], e.event_type.removeprefix("session."), e.timestamp,
             e.payload["section"], e.payload["text"]) for e in events if "line" in e.payload]
    return [r[1:] for r in sorted(rows)]


def one(events: list[Event], event_type: str) -> dict[str, Any]:
    found = [e for e in events if e.event_type == event_type]
    assert len(found) == 1, [e.event_type for e in events]
    return {"timestamp": found[0].timestamp, **found[0].payload}


# -- the three shapes, exactly ---------------------------------------------------


def test_header_shape_exact_events() -> None:
    events, problems = events_of(note("20240305-091500.md"), "layer/sessions/20240305-091500.md",
                                 TAGS)
    assert problems == []
    assert {e.source_id for e in events} == {"20240305-091500"}
    assert {e.source_file for e in events} == {"layer/sessions/20240305-091500.md"}
    start = "2024-03-05T14:15:00Z"
    assert items(events) == [
        ("context", start, "Previous Session Context",
         "The tokenizer was split out last week; the parser still builds strings by hand."),
        ("goal", start, "Goals", "Replace the hand-written parser loop"),
        ("goal", start, "Goals", "Benchmark the new parser"),
        ("goal", start, "Goals", "Keep the public API unchanged"),
        ("note", start, "Session Start", "Session opened to rewrite the parser."),
        ("work", "2024-03-05T14:40:00Z", "Work Completed",
         "**Split the grammar into rules**\n- one function per rule\n"
         "- shared helpers moved to `rules.py`"),
        ("work", "2024-03-05T14:40:00Z", "Work Completed", "Deleted the old loop"),
        ("decision", "2024-03-05T14:40:00Z", "KEY DECISIONS", "Use a Pratt parser for expressions"),
        ("decision", "2024-03-05T14:40:00Z", "KEY DECISIONS",
         "Keep errors as values, not exceptions"),
        ("challenge", "2024-03-05T14:40:00Z", "Challenges faced",
         "Left recursion in the old grammar"),
        ("work", "2024-03-05T16:05:00Z", "Work Completed", "Ported the statement rules"),
        ("pattern", "2024-03-05T16:05:00Z", "Patterns Observed",
         "Small rule functions are easier to test"),
        ("pattern", "2024-03-05T16:05:00Z", "Patterns Observed", "Error values compose"),
        ("decision", "2024-03-05T16:05:00Z", "key decisions",
         "Drop the legacy `parse_all` entry point"),
        ("note", "2024-03-05T17:30:00Z", "Note [parser-rewrite@abc1234]",
         "Ask Bob about the macro syntax before merging."),
    ]
    goals = sorted((e.payload["line"], e.payload["completed"]) for e in events
                   if e.event_type == "session.goal")
    assert [c for _, c in goals] == [True, False, True]
    started = one(events, "session.started")
    assert started == {
        "timestamp": start, "session_id": "20240305-091500", "title": "parser rewrite",
        "format": "header", "branch": "parser-rewrite", "started": start,
        "local_start": "2024-03-05T09:15:00", "utc_offset": "-05:00", "time_source": "header",
        "starting_commit": None, "start_tag": "session-20240305-091500-start",
        "tags": ["session-20240305-091500-start", "session-20240305-091500-end"],
        "tag_commits": TAGS, "commit": "a" * 40, "status": None, "llm": "claude",
    }
    ended = one(events, "session.ended")
    assert ended["timestamp"] == "2024-03-05T17:30:00Z"
    assert (ended["classification"], ended["files_changed"], ended["commits"]) == ("refactor", 6, 3)
    assert ended["end_commit"] == "b" * 40 and ended["blocks"] == 4


def test_front_matter_shape_rolls_over_midnight() -> None:
    events, problems = events_of(note("20240305-225000.md"), "layer/sessions/20240305-225000.md")
    assert problems == []
    start, last = "2024-03-06T03:50:00Z", "2024-03-06T06:05:00Z"
    assert items(events) == [
        ("context", start, "Previous Session Context",
         "Cache misses doubled after the last deploy."),
        ("goal", start, "Goals", "Find why the cache misses"),
        ("note", start, "Session Start", "Looking at cache metrics."),
        ("decision", "2024-03-06T04:40:00Z", "Key Decisions", "Key the cache by blob id, not path"),
        # 00:20 local is the next day: 2024-03-06 00:20 -05:00
        ("work", "2024-03-06T05:20:00Z", "Work Completed", "Rewrote the cache key function"),
        ("challenge", "2024-03-06T05:20:00Z", "Challenges Faced",
         "Old entries had to be invalidated"),
        ("note", last, "Note", "Deploy tomorrow morning."),
        ("decision", last, "Beliefs Captured",
         "cache-by-content: content addresses beat path addresses"),
        ("context", last, "User Prompts", "`why are misses up?`"),
        ("context", last, "User Prompts", "`ship it`"),
    ]
    started = one(events, "session.started")
    assert (started["format"], started["title"], started["status"]) == (
        "frontmatter", "Late night cache fix", "archived")
    assert started["local_start"] == "2024-03-05T22:50:00" and started["utc_offset"] == "-05:00"
    assert started["commit"] == started["starting_commit"] == "0123456789abcdef" * 2 + "01234567"
    assert started["branch"] == "main" and started["tag_commits"] == {}
    assert one(events, "session.ended")["timestamp"] == last


def test_explicit_offset_on_start_time() -> None:
    events, problems = events_of(note("pairing-notes.md"), "layer/sessions/pairing-notes.md")
    assert problems == []
    started = one(events, "session.started")
    assert (started["session_id"], started["started"], started["utc_offset"]) == (
        "pairing-notes", "2024-03-07T09:00:00Z", "+01:00")
    assert items(events) == [
        ("goal", "2024-03-07T09:00:00Z", "Goals", "Import CSV files"),
        ("work", "2024-03-07T09:45:00Z", "Work Completed", "CSV import reads headers"),
    ]


def test_free_form_with_stamped_name() -> None:
    events, problems = events_of(note("20240308-170000-retro.md"),
                                 "layer/sessions/20240308-170000-retro.md")
    assert problems == []
    t = "2024-03-08T17:00:00Z"
    assert items(events) == [
        ("note", t, "", "Shipped the parser and the cache fix."),
        ("note", t, "What went well", "Pairing sessions"),
        ("note", t, "What went well", "Small commits"),
        ("decision", t, "Decisions", "Move retros to Fridays"),
    ]
    started = one(events, "session.started")
    assert (started["title"], started["format"], started["time_source"]) == (
        "Sprint retro", "freeform", "file_name")
    assert not [e for e in events if e.event_type == "session.ended"]


def test_free_form_without_stamp_takes_the_commit_time() -> None:
    events, problems = events_of(note("init.md"), "layer/sessions/init.md")
    assert problems == []
    started = one(events, "session.started")
    assert (started["timestamp"], started["time_source"], started["title"]) == (
        COMMIT_TIME, "commit", "Project init")
    assert items(events) == [
        ("note", COMMIT_TIME, "", "We chose SQLite for the eventlog because it is one file.")]


# -- time rules ------------------------------------------------------------------


def test_offset_from_first_block_when_no_local_stamp() -> None:
    text = ("# Session: x\n**Started**: 2024-01-01T15:02:00Z\n\n## Activity Log\n"
            "### 10:02 - Session Start\n\n### 10:30 - Update\n**Key Decisions:**\n- d\n")
    events, _ = events_of(text, "layer/sessions/x.md")
    assert one(events, "session.started")["utc_offset"] == "-05:00"
    assert one(events, "session.decision")["timestamp"] == "2024-01-01T15:30:00Z"


def test_no_offset_information_means_utc() -> None:
    text = "# Session: x\n**Started**: 2024-01-01T15:00:00Z\n\n## Key Decisions\n- d\n"
    events, _ = events_of(text, "layer/sessions/x.md")
    assert one(events, "session.started")["utc_offset"] == "+00:00"
    assert one(events, "session.decision")["timestamp"] == "2024-01-01T15:00:00Z"


def test_each_block_earlier_than_the_last_rolls_a_day() -> None:
    text = ("# Session: x\n**ID**: 20240101-230000\n**Started**: 2024-01-01T23:00:00Z\n\n"
            "## Activity Log\n### 23:00 - a\n- one\n### 01:00 - b\n- two\n"
            "### 00:30 - c\n- three\n### 23:30 - d\n- four\n")
    events, _ = events_of(text)
    assert [(t, ts) for t, ts, _, _ in items(events)] == [
        ("note", "2024-01-01T23:00:00Z"), ("note", "2024-01-02T01:00:00Z"),
        ("note", "2024-01-03T00:30:00Z"), ("note", "2024-01-03T23:30:00Z")]


def test_positive_offset_across_the_date_line() -> None:
    # 09:00 on the 2nd in +10:00 is 23:00 UTC on the 1st
    text = ("# Session: x\n**ID**: 20240102-090000\n**Started**: 2024-01-01T23:00:00Z\n\n"
            "## Activity Log\n### 09:30 - Update\n**Work Completed:**\n- w\n")
    events, _ = events_of(text)
    assert one(events, "session.started")["utc_offset"] == "+10:00"
    assert one(events, "session.work")["timestamp"] == "2024-01-01T23:30:00Z"


# -- structure rules -------------------------------------------------------------


def test_every_update_block_is_read() -> None:
    blocks = "".join(f"### {10 + n}:00 - Update\n\n**Key Decisions:**\n- decision {n}\n\n"
                     f"**Patterns Observed:**\n- pattern {n}\n\n" for n in range(8))
    text = f"# Session: x\n**Started**: 2024-01-01T10:00:00Z\n\n## Activity Log\n{blocks}"
    events, problems = events_of(text)
    assert problems == []
    decisions = sorted((e.timestamp, e.payload["text"], e.payload["block"]) for e in events
                       if e.event_type == "session.decision")
    assert decisions == [(f"2024-01-01T{10 + n}:00:00Z", f"decision {n}", n) for n in range(8)]
    assert len([e for e in events if e.event_type == "session.pattern"]) == 8


def test_headings_and_labels_match_case_insensitively() -> None:
    text = ("# Session: x\n**Started**: 2024-01-01T10:00:00Z\n\n## GOALS\n- [X] g\n\n"
            "## activity log\n### 10:00 - Update\n**key decisions:**\n- a\n\n"
            "### 10:10 - Update\n#### CHALLENGES FACED\n- b\n\n"
            "## patterns OBSERVED\n- c\n\n## session classification\n- work type: fix\n")
    events, problems = events_of(text)
    assert problems == []
    assert [(t, s, x) for t, _, s, x in items(events)] == [
        ("goal", "GOALS", "g"), ("decision", "key decisions", "a"),
        ("challenge", "CHALLENGES FACED", "b"), ("pattern", "patterns OBSERVED", "c")]
    assert one(events, "session.goal")["completed"] is True
    assert one(events, "session.ended")["classification"] == "fix"


def test_numbered_item_with_nested_bullets_is_one_item() -> None:
    text = ("# Session: x\n\n## Key Decisions\n\n1. **Use SQLite**\n   - one file\n"
            "   - FTS5 built in\n2. Keep JSON canonical\n   * sorted keys\n\n"
            "## Work Completed\n- top\n  1. nested one\n  2. nested two\n")
    events, _ = events_of(text)
    assert [(t, x) for t, _, _, x in items(events)] == [
        ("decision", "**Use SQLite**\n- one file\n- FTS5 built in"),
        ("decision", "Keep JSON canonical\n* sorted keys"),
        ("work", "top\n1. nested one\n2. nested two"),
    ]


def test_label_with_inline_text_and_items_outside_any_label() -> None:
    text = ("# Session: x\n\n## Activity Log\n### 09:00 - Review\n- looked at code\n\n"
            "**Key insight:** priors are not relevance\n\n### 09:30 - Note\nremember this\n")
    events, _ = events_of(text)
    assert [(t, s, x) for t, _, s, x in items(events)] == [
        ("note", "Review", "looked at code"),
        ("pattern", "Key insight", "priors are not relevance"),
        ("note", "Note", "remember this"),
    ]


def test_label_right_after_a_list_item_starts_a_new_block() -> None:
    # no blank line before the labels: CommonMark reads each as a lazy continuation
    # of the item above it, but in a note a label always starts a new block
    text = ("# Session: x\n\n## Activity Log\n### 09:00 - Update\n**Work Completed:**\n"
            "- built the parser\n**Key Decisions:**\n- use a Pratt parser\n"
            "- keep errors as values\n**Challenges:** left recursion\nstill open\n"
            "- one more challenge\n")
    events, problems = events_of(text)
    assert problems == []
    assert [(t, s, x) for t, _, s, x in items(events)] == [
        ("work", "Work Completed", "built the parser"),
        ("decision", "Key Decisions", "use a Pratt parser"),
        ("decision", "Key Decisions", "keep errors as values"),
        ("challenge", "Challenges", "left recursion\nstill open"),
        ("challenge", "Challenges", "one more challenge"),
    ]
    assert [e.payload["line"] for e in events if e.event_type == "session.decision"] == [8, 9]


def test_label_right_after_a_paragraph_line_starts_a_new_block() -> None:
    # no blank line before the labels: CommonMark reads each as a lazy continuation
    # of the paragraph above it, but in a note a label always starts a new block
    text = ("# Session: x\n\n## Activity Log\n### 09:00 - Update\nread the old parser\n"
            "**Key Decisions:**\n- use a Pratt parser\n\nchecked the grammar\nand the tests\n"
            "  **Challenges:** left recursion\nstill open\n> a quoted line\n**Patterns:** p\n")
    events, problems = events_of(text)
    assert problems == []
    assert [(t, s, x) for t, _, s, x in items(events)] == [
        ("note", "Update", "read the old parser"),
        ("decision", "Key Decisions", "use a Pratt parser"),
        ("decision", "Key Decisions", "checked the grammar\nand the tests"),
        ("challenge", "Challenges", "left recursion\nstill open"),
        ("challenge", "Challenges", "a quoted line"),
        ("pattern", "Patterns", "p"),
    ]
    assert [e.payload["line"] for e in events if "line" in e.payload] == [5, 7, 9, 11, 13, 14]


def test_indented_label_inside_an_item_stays_in_the_item() -> None:
    text = "# Session: x\n\n## Work Completed\n- built it\n  **Key Decisions:** none\n- more\n"
    events, _ = events_of(text)
    assert [(t, x) for t, _, _, x in items(events)] == [
        ("work", "built it\n**Key Decisions:** none"), ("work", "more")]


def test_items_in_block_quotes_lose_the_quote_markers() -> None:
    text = ("# Session: x\n\n## Key Decisions\n> - quoted decision\n>   second line\n"
            ">\n> 1. numbered\n> > - twice quoted\n> lazy line\n\n> a quoted paragraph\n\n"
            "## Goals\n> - [x] quoted goal\n\n## Work Completed\n"
            "> - built it\n> **Key Decisions:**\n> - quoted and labelled\n")
    events, problems = events_of(text)
    assert problems == []
    assert [(t, x) for t, _, _, x in items(events)] == [
        ("decision", "quoted decision\nsecond line"),
        ("decision", "numbered"),
        ("decision", "twice quoted\nlazy line"),
        ("decision", "a quoted paragraph"),
        ("goal", "quoted goal"),
        ("work", "built it"),
        ("decision", "quoted and labelled"),
    ]
    assert one(events, "session.goal")["completed"] is True


def test_item_payloads_are_unique_even_for_repeated_text() -> None:
    text = ("# Session: x\n\n## Activity Log\n### 09:00 - U\n**Key Decisions:**\n- same\n- same\n"
            "### 09:10 - U\n**Key Decisions:**\n- same\n\n## Key Decisions\n- same\n"
            "## Key Decisions\n- same\n")
    events, _ = events_of(text)
    assert len([e for e in events if e.event_type == "session.decision"]) == 5
    assert len({e.event_id for e in events}) == len(events)


# -- malformed input ---------------------------------------------------------------


def test_broken_yaml_front_matter_still_reads_the_body() -> None:
    text = ("---\nid: [unclosed\ntitle: x\n---\n\n## Key Decisions\n- keep going\n")
    events, problems = events_of(text, "layer/sessions/20240101-100000.md")
    assert problems and "YAML" in problems[0][1]
    assert one(events, "session.decision")["text"] == "keep going"
    assert one(events, "session.started")["timestamp"] == "2024-01-01T10:00:00Z"


def test_no_headings() -> None:
    events, problems = events_of("just some text\n\n- and a bullet\n")
    assert problems == [(1, "no headings: read as one free-form note")]
    assert [x for _, _, _, x in items(events)] == ["just some text", "and a bullet"]


def test_binary_bytes() -> None:
    data = b"# Session: bin\n\n## Key Decisions\n- ok\n\x00\x01\xff\xfe garbage\n"
    events, problems = events_of(data)
    assert problems and problems[0][1].startswith("binary content")
    assert one(events, "session.started")["title"] == "bin"
    assert [e for e in events if e.event_type == "session.decision"]


def test_huge_file_is_read_up_to_the_limit() -> None:
    line = "- a decision that repeats itself over and over again\n"
    text = "# Session: big\n\n## Key Decisions\n" + line * (5 * 1024 * 1024 // len(line))
    events, problems = events_of(text)
    assert problems[0][1].startswith(f"longer than {MAX_BYTES} bytes")
    decisions = [e for e in events if e.event_type == "session.decision"]
    assert 1000 < len(decisions) <= MAX_BYTES // len(line) + 1


def test_a_heading_with_no_items_is_not_worth_a_warning() -> None:
    text = "# Session: x\n\n## Key Decisions\n\n## Patterns Observed\n- p\n"
    events, problems = events_of(text)
    assert problems == []  # history nobody can fix; the note is simply read
    assert one(events, "session.pattern")["text"] == "p"


def test_unclosed_code_fence_hides_fake_headings() -> None:
    text = ("# Session: x\n\n## Key Decisions\n- real\n\n```python\n## Patterns Observed\n"
            "- fake pattern\n### 10:00 - fake block\n")
    events, problems = events_of(text)
    assert problems == [(6, "code fence is never closed")]
    assert one(events, "session.decision")["text"] == "real"
    assert not [e for e in events if e.event_type == "session.pattern"]


def test_closed_code_fence_is_no_problem() -> None:
    text = "# Session: x\n\n## Key Decisions\n- real\n\n```\n## not a heading\n```\n"
    events, problems = events_of(text)
    assert problems == []
    assert [e.event_type for e in events].count("session.decision") == 1


def test_code_fence_in_a_block_quote() -> None:
    # the closing line holds the quote markers too: closed fences are no problem,
    # a fence the quote ends before it closes still is
    closed = ("# Session: x\n\n## Key Decisions\n- real\n\n> ```\n> ## not a heading\n> ```\n\n"
              "> > ~~~~\n> > code\n> > ~~~~~\n")
    events, problems = events_of(closed)
    assert problems == []
    assert [e.event_type for e in events].count("session.decision") == 1
    unclosed = "# Session: x\n\n## Key Decisions\n- real\n\n> ```\n> ## not a heading\n\nafter\n"
    events, problems = events_of(unclosed)
    assert problems == [(6, "code fence is never closed")]
    assert [x for _, _, _, x in items(events)] == ["real", "after"]


# -- generated markdown ------------------------------------------------------------

_pieces = st.sampled_from([
    "# Session: t\n", "**ID**: 20240101-120000\n", "**Started**: 2024-01-01T17:00:00Z\n",
    "**Started**: not a date\n", "---\n", "id: x\n", "created: 2024-01-01\n", "git: [\n",
    "## Goals\n", "## Activity Log\n", "### 12:00 - Update\n", "### 23:59 - Note\n",
    "### 00:01 - Update\n", "### 99:99 - bad\n", "**Key Decisions:**\n", "**Work Completed:**\n",
    "#### patterns observed\n", "## Session Classification\n", "- Work Type: x\n",
    "- [ ] goal\n", "- [x] done\n", "1. first\n", "   - nested\n", "```\n", "~~~\n",
    "> quoted\n", "\n", "plain text\n", "<div>\n", "* * *\n", "- \n", "\t- tab\n", "\x00",
    "\r\n", "\ufeff", "**\n", "## \n", "###### 10:10\n",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_pieces, st.text(max_size=30)), max_size=40))
def test_generated_markdown_never_raises_and_is_deterministic(parts: list[str]) -> None:
    data = "".join(parts).encode("utf-8", "surrogatepass")
    first = session_events("layer/sessions/g.md", data, COMMIT_TIME, TAGS)
    second = session_events("layer/sessions/g.md", data, COMMIT_TIME, TAGS)
    assert first == second
    events, _ = first
    assert events[0].event_type == "session.started"
    assert len({e.event_id for e in events}) == len(events)
    for event in events:
        assert len(event.timestamp) == 20 and event.timestamp.endswith("Z")
        assert event.source_file == "layer/sessions/g.md"
