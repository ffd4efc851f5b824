"""Documentation files (README.md, docs/*.rst, CHANGES.rst, .txt, .adoc) become
`code.chunk` events cut at headings, so they are searchable and can be answers;
session notes stay the sessions scraper's alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.builder import RepoBuilder
from kenning.scrapers.base import ScrapeOptions
from kenning.scrapers.code.chunks import CHUNK_CHARS, CHUNK_LINES
from kenning.scrapers.code.languages import language_of
from kenning.scrapers.code.plain import PLAIN, headings, windows
from tests.test_code_scrape import T1, code_events, run, statuses

README = """\
# Flask

Flask is a lightweight WSGI web application framework.

```python
# this is a comment, not a heading
app = Flask(__name__)
```

Installing
----------

Install and update using pip.

Contributing
============

See the contributing guide.
"""

CHANGES_RST = """\
=========
 Changes
=========

Version 3.1.0
-------------

Released 2024-11-13

-   Drop support for Python 3.8.
-   Remove previously deprecated code.

Version 3.0.3
-------------

-   The default ``hashlib.sha1`` may not be available in FIPS builds.
"""


def test_languages_by_extension() -> None:
    assert language_of("README.md", PLAIN) == "markdown"
    assert language_of("docs/api.RST", PLAIN) == "restructuredtext"
    assert language_of("requirements/dev.txt", PLAIN) == "text"
    assert language_of("docs/guide.adoc", PLAIN) == "asciidoc"
    assert language_of("README", PLAIN) is None


def test_markdown_headings_outside_code_fences() -> None:
    assert headings(README.split("\n"), "markdown") == {1, 10, 15}


def test_rst_headings_start_at_their_overline() -> None:
    assert headings(CHANGES_RST.split("\n"), "restructuredtext") == {1, 5, 13}
    assert headings(["Title", "==", "", "a longer line", "----", "x"], "restructuredtext") == set()


def test_asciidoc_and_text_headings() -> None:
    assert headings(["= Guide", "", "== Install", "text", "==not"], "asciidoc") == {1, 3}
    assert headings(["# not a heading in text"], "text") == set()


def test_a_long_document_is_cut_before_its_headings() -> None:
    lines = []
    for section in range(6):
        lines += [f"## Section {section}", ""]
        lines += [f"Paragraph {section}.{i} about the topic." for i in range(30)]
        lines += [""]
    got = windows(lines, "markdown")
    assert [c.text.split("\n")[0] for c in got] == [f"## Section {s}" for s in range(6)]
    assert all(c.end_line - c.start_line < CHUNK_LINES and len(c.text) <= CHUNK_CHARS
               for c in got)
    small = windows(README.split("\n"), "markdown")
    assert [(c.start_line, c.end_line) for c in small] == [(1, 18)]  # small sections together


def test_a_long_section_is_cut_at_blank_lines() -> None:
    lines = ["Guide", "=====", ""]
    for paragraph in range(12):
        lines += [f"Sentence {paragraph}.{i} of the guide goes on." for i in range(6)] + [""]
    got = windows(lines, "restructuredtext")
    assert got[0].text.startswith("Guide\n=====")
    assert all(lines[c.end_line] == "" for c in got[:-1])  # each ends at a paragraph's end
    assert [line for c in got for line in c.text.split("\n") if line] == \
        [line for line in lines if line]


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    r = RepoBuilder(root / "repo")
    r.commit("Add docs", T1, {
        "README.md": README,
        "CHANGES.rst": CHANGES_RST,
        "docs/guide.adoc": "= Guide\n\nRead the guide.\n",
        "requirements/dev.txt": "pytest\nsphinx\n",
        "docs/huge.md": "# Huge\n" + "A line of text that goes on.\n" * 10_000,
        "docs/generated/api.md": "# API\n",
        ".gitattributes": "docs/generated/** linguist-documentation\n",
        "vendor/lib/README.md": "# vendored\n",
        "layer/sessions/2024-03-01.md": "# Session: notes\n",
        "notes/decision.md": "# A decision\n",
        "notes/summary.txt": "A summary\n",
    })
    db = root / "k.db"
    run(r.path, db, options=ScrapeOptions(code_max_bytes=1_000_000,
                                          session_paths=("layer/sessions", "notes/")))
    return db


def test_documentation_files_are_units_but_session_notes_are_not(scraped: Path) -> None:
    assert statuses(scraped) == {
        "README.md": "ok", "CHANGES.rst": "ok", "docs/guide.adoc": "ok",
        "requirements/dev.txt": "ok", "docs/huge.md": "skipped:size",
        "docs/generated/api.md": "skipped:documentation",
        "vendor/lib/README.md": "skipped:vendored",
    }


def test_documentation_chunks_carry_their_language(scraped: Path) -> None:
    got = {(row[4], json.loads(row[6])["language"]) for row in code_events(scraped)}
    assert got == {("README.md::chunk:1", "markdown"), ("CHANGES.rst::chunk:1",
                                                         "restructuredtext"),
                   ("docs/guide.adoc::chunk:1", "asciidoc"),
                   ("requirements/dev.txt::chunk:1", "text")}


def test_the_session_paths_decide_which_notes_are_documentation(tmp_path: Path) -> None:
    r = RepoBuilder(tmp_path / "repo")
    r.commit("notes", T1, {"layer/sessions/a.md": "# A\n", "notes/b.md": "# B\n"})
    run(r.path, tmp_path / "a.db")
    assert statuses(tmp_path / "a.db") == {"notes/b.md": "ok"}
    run(r.path, tmp_path / "a.db", options=ScrapeOptions(session_paths=("notes",)))
    assert statuses(tmp_path / "a.db") == {"layer/sessions/a.md": "ok"}
