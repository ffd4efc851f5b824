"""What `kenning scry` prints: a table that fits the terminal without ever splitting a
location, plain and TSV lines for pipes, session hits by kind with path:line, NO_COLOR."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.builder import RepoBuilder
from kenning.cli.hits import Row, shorten, table
from tests.conftest import Runner

LONG = "src/services/authentication/providers/oauth_token_refresh_scheduler.py"
NOTE = """# Session: token refresh
**Started**: 2024-03-05T09:15:00Z

## Key Decisions
- Refresh oauth tokens five minutes before they expire, in the scheduler, so that
  a request never waits for a refresh while holding the connection pool lock.
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = RepoBuilder(tmp_path_factory.mktemp("output") / "repo")
    r.commit("Schedule oauth token refresh", "2024-03-05T10:00:00+00:00", {
        LONG: "def refresh_oauth_token(token):\n    '''Refresh an oauth token before it "
              "expires.'''\n    return token.refresh()\n",
        "layer/sessions/20240305-091500.md": NOTE})
    for day, topic in enumerate(["logging", "packaging", "docs", "ci", "tests"], 6):
        r.commit(f"Tidy the {topic} setup", f"2024-03-{day:02d}T10:00:00+00:00",
                 {f"{topic}.txt": f"{topic}\n"})
    return r.path


def scry(kenning: Runner, repo: Path, *args: str, env: dict[str, str] | None = None,
         code: int = 0) -> str:
    kenning("scrape", "--no-embed", cwd=repo)
    proc = kenning("scry", *args, "--mode", "lexical", cwd=repo, env=env, check=False)
    assert proc.returncode == code, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_the_table_fits_the_terminal_and_never_splits_a_location(
        kenning: Runner, repo: Path, columns: int) -> None:
    out = scry(kenning, repo, "oauth token refresh", env={"COLUMNS": str(columns)})
    lines = out.splitlines()
    assert f"{LONG}:1" in out  # the whole path:line, on one line
    assert "layer/sessions/20240305-091500.md:5" in out  # a session item's line
    for line in lines:
        assert line == line.rstrip()  # nothing padded
        assert len(line) <= columns or LONG in line or ".md:5" in line, line


def test_session_hits_are_named_by_their_kind(kenning: Runner, repo: Path) -> None:
    out = scry(kenning, repo, "refresh before they expire", "--format", "plain")
    assert any(line.startswith("layer/sessions/20240305-091500.md:5  decision  2024-03-05  ")
               for line in out.splitlines()), out


def test_plain_and_tsv_are_one_hit_per_line(kenning: Runner, repo: Path) -> None:
    plain = scry(kenning, repo, "oauth", "--format", "plain").splitlines()
    wheres = [line.split("  ")[0] for line in plain]
    assert {f"{LONG}:1", "layer/sessions/20240305-091500.md:5"} <= set(wheres)
    tsv = scry(kenning, repo, "oauth", "--format", "tsv").splitlines()
    assert tsv[0].split("\t") == ["rank", "kind", "time", "where", "paths", "score", "snippet"]
    assert len(tsv) == len(plain) + 1 and all(len(r.split("\t")) == 7 for r in tsv)


def test_nothing_found_says_so_and_exits_1_like_grep(kenning: Runner, repo: Path) -> None:
    kenning("scrape", "--no-embed", cwd=repo)
    proc = kenning("scry", "zzyzx", "--mode", "lexical", cwd=repo, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "no results for 'zzyzx'" in proc.stderr


def test_no_color_turns_off_bold_and_dim(kenning: Runner, repo: Path) -> None:
    forced = {"FORCE_COLOR": "1", "COLUMNS": "100"}
    assert "\x1b[" in scry(kenning, repo, "oauth", env=forced)  # a terminal gets bold
    quiet = scry(kenning, repo, "oauth", env={**forced, "NO_COLOR": "1"})
    assert "\x1b" not in quiet and "results, lexical" in quiet


def test_shorten_cuts_at_a_word_and_says_so() -> None:
    assert shorten("refresh the oauth token early", 18) == "refresh the oauth…"
    assert shorten("refresh the oauth token early", 17) == "refresh the…"
    assert shorten("short", 18) == "short"
    row = Row("function", "2024-03-05", "a/very/long/path.py:12", (), "word " * 40, "1.000")
    for width in (40, 80, 120):
        lines = table([row], width)
        assert any(line.endswith("a/very/long/path.py:12") or "path.py:12  " in line
                   for line in lines)
        assert all(len(line) <= width or "a/very/long/path.py:12" in line for line in lines)
        assert lines[-1].endswith(" word…")  # the snippet gave way, at a whole word


@pytest.mark.parametrize("args, message, help_of", [
    (("scrap",), "no such command 'scrap'. Did you mean 'scrape', 'scry'?", "kenning"),
    (("query", "nope"), "no such command 'nope'", "kenning query"),
    (("scry", "x", "--limit", "ten"), "invalid value for '--limit': 'ten' is not a valid int",
     "kenning scry"),
    (("scry", "x", "--limt", "3"), "no such option: --limt (Possible options: --limit)",
     "kenning scry"),
    (("query", "definitions"), "missing argument 'name'", "kenning query definitions"),
])
def test_usage_errors_are_one_line_with_where_to_read_more(
        kenning: Runner, tmp_path: Path, args: tuple[str, ...], message: str,
        help_of: str) -> None:
    proc = kenning(*args, cwd=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1
    # the help to read is the mistyped command's (`python -m kenning ...` when run so)
    assert proc.stderr.startswith(f"kenning: {message} (see `")
    assert proc.stderr.endswith(f"{help_of} -h`)\n")


def test_a_command_alone_shows_its_help_and_help_exits_0(kenning: Runner,
                                                         tmp_path: Path) -> None:
    alone = kenning("query", cwd=tmp_path, check=False)
    assert alone.returncode == 2 and "Usage: " in alone.stderr
    asked = kenning("query", "-h", cwd=tmp_path)
    assert asked.stdout == alone.stderr
    assert kenning("--version", cwd=tmp_path).stdout.startswith("kenning ")
