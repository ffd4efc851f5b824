"""What a run tells while it works and after: every stage's progress (plain lines in a
log), warnings grouped by kind, --verbose and --quiet, and a summary of every stage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from fixtures.builder import RepoBuilder
from kenning.cli.progress import LineProgress
from tests.conftest import Runner

S = "layer/sessions"
LONG_DIR = "layer/sessions/" + "a-rather-long-folder-name-for-notes/" * 3


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = RepoBuilder(tmp_path_factory.mktemp("progress") / "repo")
    broken = {f"{S}/broken-{i}.md": "# Session: b\n```\n## Key Decisions\n- hidden\n"
              for i in range(5)}
    r.commit("Add notes and code", "2024-03-05T10:00:00+00:00", {
        **broken, f"{LONG_DIR}note.md": "---\nid: [oops\n---\n## Key Decisions\n- d\n",
        "src/app.py": "def main():\n    return 1\n"})
    return r.path


def test_a_plain_line_at_most_every_few_seconds_and_none_for_a_quick_stage() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = LineProgress(out, every=10.0, clock=lambda: now[0])
    progress.start("code", 100)
    for _ in range(10):
        now[0] += 3.0
        progress.advance(10)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert lines == ["kenning: code 40/100 (3/s, ~18s left)",
                     "kenning: code 80/100 (3/s, ~6s left)",
                     "kenning: code done, 100 in 30s"]
    quick = io.StringIO()
    progress = LineProgress(quick, every=10.0, clock=lambda: now[0])
    progress.start("git", 5)
    progress.advance(5)
    progress.finish()
    assert quick.getvalue() == ""


def test_a_note_is_its_own_line_above_the_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from kenning.cli import progress as shown

    out = io.StringIO()
    monkeypatch.setattr(shown, "err", Console(file=out, force_terminal=True, width=60))
    bars = shown.BarProgress()
    bars.start("fts", 10)
    bars.note("the search index is ready: [scry] answers")  # no markup read into it
    bars.finish()
    bars.close()
    assert "kenning: the search index is ready: [scry] answers\n" in out.getvalue()


def test_every_stage_reports_in_a_log_and_in_the_summary(kenning: Runner, tmp_path: Path,
                                                         repo: Path) -> None:
    proc = kenning("scrape", "--no-embed", "--db", str(tmp_path / "k.db"), cwd=repo,
                   env={"KENNING_PROGRESS_SECONDS": "0"})
    stages = {line.split()[1] for line in proc.stderr.splitlines()
              if line.startswith("kenning: ")}
    assert {"git", "sessions", "code", "views"} <= stages, proc.stderr
    summary = proc.stdout
    for name in ("eventlog", "views", "fts", "co_changes", "expertise", "signals"):
        assert f"\n{name}" in "\n" + summary, summary
    again = kenning("scrape", "--no-embed", "--db", str(tmp_path / "k.db"), cwd=repo)
    assert "eventlog     unchanged" in again.stdout
    assert "views        already fresh" in again.stdout  # said even when nothing changed


def test_warnings_are_grouped_by_kind_and_never_wrapped(kenning: Runner, tmp_path: Path,
                                                        repo: Path) -> None:
    proc = kenning("scrape", "--no-embed", "--db", str(tmp_path / "k.db"), cwd=repo,
                   env={"COLUMNS": "60"})
    lines = proc.stderr.splitlines()
    assert "warning: 6 session-note warnings (--verbose shows all):" in lines
    shown = [line for line in lines if line.startswith(f"  {S}/")]
    assert len(shown) == 3 and "  ... and 3 more" in lines
    verbose = kenning("scrape", "--no-embed", "--verbose", "--db", str(tmp_path / "v.db"),
                      cwd=repo, env={"COLUMNS": "60"}).stderr.splitlines()
    assert len([line for line in verbose if line.startswith(f"  {S}/")]) == 6
    # a warning's path:line stays on one line however narrow the terminal would be
    assert any(line.startswith(f"  {LONG_DIR}note.md:") for line in verbose), verbose


def test_quiet_prints_nothing_but_errors(kenning: Runner, tmp_path: Path, repo: Path) -> None:
    proc = kenning("scrape", "--no-embed", "--quiet", "--db", str(tmp_path / "k.db"),
                   cwd=repo, env={"KENNING_PROGRESS_SECONDS": "0"})
    assert (proc.stdout, proc.stderr) == ("", "")
    bad = kenning("scrape", "--quiet", "--until", "1999-01-01", "--db",
                  str(tmp_path / "x.db"), cwd=repo, check=False)
    assert bad.returncode != 0 and bad.stderr.startswith("kenning: ")
