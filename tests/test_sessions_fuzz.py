"""Hostile session notes (hypothesis): YAML front matter with any value type, and whole
notes from arbitrary text and bytes. A note never stops a scrape: `session_events`
never raises, its events can be stored, and the same note gives the same events in
another process with another hash seed (no set or dict order leaks in)."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fixtures.builder import RepoBuilder
from kenning.eventlog.events import Event
from kenning.scrapers.sessions import MAX_BYTES, session_events
from tests.conftest import Runner

COMMIT_TIME = "2024-03-08T18:00:00Z"
TAGS = {"v1": "a" * 40, "session-start": "b" * 40}
S = "layer/sessions"


@pytest.fixture(scope="module")
def other_seed() -> Iterator[ProcessPoolExecutor]:
    """A process with another PYTHONHASHSEED, to parse the same notes again."""
    saved = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = "1" if saved != "1" else "2"  # read when the child starts
    try:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        pool.submit(int).result()  # started now, with that environment
    finally:
        if saved is None:
            del os.environ["PYTHONHASHSEED"]
        else:
            os.environ["PYTHONHASHSEED"] = saved
    with pool:
        yield pool


def check(pool: ProcessPoolExecutor, path: str, data: bytes
          ) -> tuple[list[Event], list[tuple[int, str]]]:
    """What every note must satisfy; returns its events and problems."""
    events, problems = session_events(path, data, COMMIT_TIME, TAGS)
    assert (events, problems) == session_events(path, data, COMMIT_TIME, TAGS)
    assert pool.submit(session_events, path, data, COMMIT_TIME, TAGS).result() == (
        events, problems)
    assert events and events[0].event_type == "session.started"
    assert len({e.event_id for e in events}) == len(events)  # storable: ids and UTF-8
    for event in events:
        assert len(event.timestamp) == 20 and event.timestamp.endswith("Z")
        assert event.source_file == path
        json.loads(event.data)
        (event.source_id + event.data).encode("utf-8")
    for line, reason in problems:
        assert line >= 1 and reason and "\n" not in reason
    return events, problems


# -- front matter ------------------------------------------------------------------

_dates = st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 99),
                   st.integers(0, 99))
_times = st.builds(
    "{}{}{:02d}:{:02d}:{:02d}{}{}".format, _dates, st.sampled_from(["T", "t", " ", "  "]),
    st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
    st.sampled_from(["", ".5", ".123456789"]),
    st.sampled_from(["", "Z", " Z", "+01:00", "-14:00", "+14:00", "+99:00", " -5", "+05:30"]))
_ints = st.one_of(
    st.integers().map(str),
    st.integers(1, 6000).map(lambda n: "9" * n),  # past Python's 4,300-digit str limit
    st.integers(1, 5000).map(lambda n: "0x" + "f" * n),
    st.sampled_from(["0o17", "017", "0b1011", "1:30:00", "+1_000", "-0", "0x_ff",
                     "1_0000000000000000000000", "190:20:30"]))
_floats = st.one_of(
    st.floats(allow_nan=True).map(repr),
    st.sampled_from([".inf", "-.inf", ".NaN", "1e400", "-1e-400", "6.8523015e+5",
                     "190:20:30.15", "1_000.5", "1" * 5000 + ".5"]))
_plain = st.sampled_from(["yes", "No", "ON", "off", "true", "False", "~", "null", "Null", "",
                          "x", "session-start", "v1", "main", "abc123", "'quoted'", "''"])
_texts = st.one_of(
    st.text(max_size=40).map(json.dumps),  # double quoted, with \uXXXX escapes
    st.text(max_size=40).map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.sampled_from(['"\\ud800"', '"a\\udfffb"', '"\\0"', '"\\x00\\t"', '"\\U0001F600"']),
    st.integers(1, 300_000).map(lambda n: "x" * n))
_binary = st.one_of(
    st.binary(max_size=64).map(lambda b: "!!binary " + base64.b64encode(b).decode()),
    st.sampled_from(["!!binary not base64!", "!!binary é"]))
_tagged = st.sampled_from([
    "!!python/object/apply:sys.exit [3]", "!!python/object/apply:os.system ['exit 3']",
    "!!python/name:sys.exit", "!!python/object:collections.OrderedDict {}",
    "!!timestamp x", "!!timestamp 2024-13-45", "!!int x", "!!int 1.5", "!!float x",
    "!!bool x", "!!null x", "!!str 12", "!!seq x", "!!map x", "!!set {b, a, d, c, e, f}",
    "!!omap [a: 1, b: 2]", "!!pairs [a: 1, a: 2]", "!custom x", "!!merge x",
    "!<tag:yaml.org,2002:int> 0x" + "f" * 4000])
_scalars = st.one_of(_dates, _times, _ints, _floats, _plain, _texts, _binary, _tagged)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from(["a", "branch", "1", "? x"]), inner),
                 max_size=3).map(lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
        inner.map(lambda v: "&a " + v),
    ),
    max_leaves=8)
_special = st.sampled_from([
    "*a", "*undefined", "&a [*a]", "&a {k: *a}", "!!set {a, b, c, d, e, f, g, h}",
    "[" * 3000 + "]" * 3000, "[" * 99 + "]" * 99, "{a: " * 2000 + "1" + "}" * 2000, "- a",
    "|\n  block\n  text", ">\n  folded", "'unclosed", '"unclosed', "[unclosed", ": bad",
    "@reserved", "`tick",
])
_keys = st.sampled_from(["id", "title", "created", "status", "llm", "git", "branch",
                         "starting_commit", "start_tag", "tags", "start_timestamp", "other",
                         "<<", "? [a, b]", "'quoted key'", "1", "~"])
_entries = st.lists(st.tuples(_keys, st.one_of(_values, _special)), max_size=8)


def front_matter(entries: list[tuple[str, str]], end: str = "---") -> str:
    body = "".join(f"{key}: {value}\n" for key, value in entries)
    return f"---\n{body}{end}\n"


BODY = "# Session: fuzz\n\n## Key Decisions\n- keep reading the body\n"


_stamped = st.sampled_from(["fuzz.md", "20240305-091500.md", "99991231-235959.md",
                            "00010101-000000.md"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=_entries, end=st.sampled_from(["---", "...", "--- ", "----"]), name=_stamped)
@example(entries=[("created", "2024-13-45")], end="---", name="fuzz.md")
@example(entries=[("created", "2024-02-30T25:61:00Z")], end="---", name="fuzz.md")
@example(entries=[("id", "1" * 5000)], end="---", name="fuzz.md")
@example(entries=[("title", "!!set {b, a, d, c, e, f}")], end="---", name="fuzz.md")
@example(entries=[("id", '"\\ud800"')], end="---", name="fuzz.md")
@example(entries=[("created", "9999-12-31T23:59:59Z")], end="---", name="99991231-235959.md")
@example(entries=[("title", "[" * 3000 + "]" * 3000)], end="---", name="fuzz.md")
def test_front_matter_never_stops_a_note(other_seed: ProcessPoolExecutor,
                                         entries: list[tuple[str, str]], end: str,
                                         name: str) -> None:
    data = (front_matter(entries, end) + BODY).encode("utf-8", "surrogatepass")
    events, _ = check(other_seed, f"{S}/{name}", data)
    if end == "---" and len(data) < MAX_BYTES:  # the body after the front matter is read
        assert "keep reading the body" in [e.payload.get("text") for e in events]


def test_bad_values_are_named_with_their_line_and_the_rest_is_read() -> None:
    text = ("---\nid: 20240305-091500\ntitle: Fuzzed\ncreated: 2024-13-45\n"
            "git:\n  branch: " + "1" * 5000 + "\n  start_tag: v1\n---\n" + BODY)
    events, problems = session_events(f"{S}/x.md", text.encode(), COMMIT_TIME, TAGS)
    assert [line for line, _ in problems] == [4, 6]
    assert "created" in problems[0][1] and "branch" in problems[1][1]
    started = events[0].payload
    assert (started["title"], started["start_tag"], started["branch"]) == ("Fuzzed", "v1", None)
    assert started["local_start"] == "2024-03-05T09:15:00"  # from the id: created is unread
    assert events[1].payload["text"] == "keep reading the body"


def test_front_matter_is_loaded_safely(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = (f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n"
            f"id: !!python/object/apply:subprocess.call [['touch', '{marker}']]\n---\n" + BODY)
    events, problems = session_events(f"{S}/x.md", text.encode(), COMMIT_TIME, TAGS)
    assert not marker.exists()
    assert problems and all(line in (2, 3) for line, _ in problems)
    assert events[0].payload["title"] == "fuzz"


# -- whole notes ---------------------------------------------------------------------

_pieces = st.sampled_from([
    "# Session: t\n", "**ID**: 20240101-120000\n", "**ID**: 99991231-235959\n",
    "**Started**: 2024-01-01T17:00:00Z\n", "**Started**: 9999-12-31T23:59:59Z\n",
    "**Started**: 0001-01-01T00:00:00+14:00\n", "**Started**: 0001-01-01T00:00:00Z\n",
    "**Started**: 2024-02-30\n", "**Session Tag**: v1\n", "**Tags**: v1, session-start\n",
    "## Goals\n", "## Activity Log\n", "### 12:00 - Update\n", "### 23:59 - Note\n",
    "### 00:01 - Update\n", "### 99:99 - bad\n", "### ١٢:٣٠ - digits\n", "**Key Decisions:**\n",
    "**Work Completed:**\n", "## Session Classification\n", "- Work Type: x\n",
    "- Files Changed: " + "9" * 5000 + "\n", "- Commits: ١٢\n", "- [ ] goal\n", "- [x] done\n",
    "1. first\n", "   - nested\n", "```\n", "~~~\n", "> quoted\n", "> " * 50 + "deep\n",
    "- " * 50 + "deep\n", "\n", "plain text\n", "\x00", "\r\n", "\r", "\ufeff", "**\n", "## \n",
])
_chunks = st.one_of(
    _pieces.map(str.encode), st.binary(max_size=40),
    st.text(max_size=30).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\xff\xfe", b"\xed\xa0\x80", b"\xc3", b"\x00\x00", b"\xef\xbb\xbf"]),
    _entries.map(lambda e: front_matter(e).encode("utf-8", "surrogatepass")))
_names = st.one_of(
    st.sampled_from(["g.md", "20240101-120000.md", "99991231-235959.md", "00010101-000000.md",
                     "20241345-250000.md", "notes.markdown"]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/\0"),
            min_size=1, max_size=20).map(lambda t: t + ".md"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_names, chunks=st.lists(_chunks, max_size=30))
def test_any_bytes_make_a_note(other_seed: ProcessPoolExecutor, name: str,
                               chunks: list[bytes]) -> None:
    check(other_seed, f"{S}/{name}", b"".join(chunks))


# -- the whole scrape --------------------------------------------------------------

HOSTILE = {
    "bad-date.md": "---\ncreated: 2024-13-45\ntitle: Bad date\n---\n" + BODY,
    "bad-time.md": "---\ntitle: Bad time\ncreated: 2024-02-30T25:61:00Z\n---\n" + BODY,
    "huge-int.md": "---\ntitle: Huge\nid: " + "7" * 5000 + "\n---\n" + BODY,
}


def test_hostile_front_matter_warns_and_the_scrape_goes_on(tmp_path: Path,
                                                           kenning: Runner) -> None:
    """In worker processes (more notes than _PARALLEL_FROM), as a user runs it."""
    r = RepoBuilder(tmp_path / "repo")
    filler = {f"{S}/{n:03d}.md": f"# Session: {n}\n\n## Notes\n- note {n}\n" for n in range(70)}
    r.commit("notes", "2024-03-08T18:00:00+00:00",
             {**filler, **{f"{S}/{k}": v for k, v in HOSTILE.items()}})
    proc = kenning("scrape", "sessions", "--no-materialize", "--json", "--workers", "2",
                   cwd=r.path)
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    warnings = [f"{w['where']}: {w['message']}" for w in json.loads(proc.stdout)["warnings"]]
    assert sorted(w.split(":")[0] for w in warnings) == sorted(f"{S}/{k}" for k in HOSTILE)
    assert f"{S}/bad-date.md:2: " in "\n".join(warnings)
    assert f"{S}/bad-time.md:3: " in "\n".join(warnings)
    assert f"{S}/huge-int.md:3: " in "\n".join(warnings)
    dump = kenning("export", cwd=r.path).stdout
    titles = {json.loads(line)["data"].get("title") for line in dump.splitlines()
              if json.loads(line)["event_type"] == "session.started"}
    assert {"Bad date", "Bad time", "Huge"} <= titles
    again = kenning("scrape", "--no-materialize", "--full", cwd=r.path)
    assert "internal error" not in again.stderr


def test_a_note_that_breaks_the_parser_costs_only_that_note(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last resort behind the fuzz tests: an unforeseen exception is one warning."""
    from kenning.repository.gitrepo import GitRepo
    from kenning.scrapers import sessions
    from kenning.scrapers.engine import scrape

    def parse(text: str) -> object:
        if "boom" in text:
            raise ValueError("unforeseen")
        return real(text)

    real = sessions.parse_session
    monkeypatch.setattr(sessions, "parse_session", parse)
    r = RepoBuilder(tmp_path / "repo")
    r.commit("notes", "2024-03-08T18:00:00+00:00",
             {f"{S}/a.md": BODY, f"{S}/b.md": "# boom\n", f"{S}/c.md": BODY})
    result = scrape(GitRepo.discover(r.path), tmp_path / "k.db", scrapers=["sessions"])
    assert [str(w) for w in result.warnings] == [
        f"{S}/b.md:1: cannot be read (a bug in kenning: ValueError: unforeseen)"]
    assert result.added > 4  # a.md and c.md: started, a decision, ended; and the commit
