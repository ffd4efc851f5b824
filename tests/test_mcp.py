"""`kenning mcp`: the server started as a subprocess, spoken to with the MCP SDK's own
client, on a repository built by fixtures/ (history, a session note, code)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import apsw
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

import kenning
from fixtures import history
from fixtures.builder import ALICE, BOB, RepoBuilder
from kenning.mcp import budget
from kenning.mcp.headwatch import HeadWatch
from kenning.repository.gitrepo import GitRepo
from tests.conftest import ROOT, copied

NOTE = "layer/sessions/20240203-090000.md"
NOTE_TEXT = """\
# Session: parser speed-up
**ID**: 20240203-090000
**Started**: 2024-02-03T09:00:00Z

## Goals
- [x] Make the parser faster on tab-separated input

## Activity Log
### 09:00 - Session Start
Looked at src/parser.py first.

### 10:30 - Update

**Key Decisions:**
- Split tokens on tabs in src/parser.py, since every input file is tab-separated
- Keep parse pure: no module state

**Challenges Faced:**
- Old fixtures used spaces
"""
TOOLS = {"scry", "file_report", "definitions", "callers", "recent", "show", "status"}


def build_repo(path: Path) -> RepoBuilder:
    """The history fixture, then a session note and a caller of `parse`."""
    r = history.build(path)
    r.commit("Session notes: the parser speed-up", "2024-02-10T12:00:00+00:00",
             {NOTE: NOTE_TEXT, "src/cli.py": "from parser import parse\n\n\n"
              "def run(text):\n    return parse(text)\n"}, author=BOB)
    return r


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built and scraped once (no embeddings: lexical answers, and quick)."""
    path = tmp_path_factory.mktemp("mcp") / "repo"
    build_repo(path)
    with kenning.open(path) as k:
        k.scrape(embed=False)
    return path


@pytest.fixture
def repo(scraped: Path, tmp_path: Path) -> Path:
    """A copy of the scraped repository that a test may commit to."""
    return copied(scraped, tmp_path)


Session = Callable[[ClientSession], Awaitable[None]]


def talk(repo: Path, scenario: Session, *args: str,
         command: tuple[str, ...] = (sys.executable, "-m", "kenning", "mcp"),
         env: dict[str, str] | None = None) -> None:
    """Start `python -m kenning mcp ARGS` in `repo` and run `scenario` against it."""
    env = {"PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"],
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    params = StdioServerParameters(command=command[0], args=[*command[1:], *args],
                                   cwd=str(repo), env=env)

    async def run() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await scenario(session)

    asyncio.run(run())


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)  # type: ignore[union-attr]


async def error(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error
    return result.content[0].text  # type: ignore[union-attr]


def readme_server_config(repo: Path) -> tuple[str, ...]:
    """The command the README's JSON configuration starts, for `repo`."""
    text = (ROOT / "README.md").read_text("utf-8")
    (block,) = [b for b in re.findall(r"```json\n(.*?)```", text, flags=re.S) if "mcp" in b]
    server = json.loads(block)["mcpServers"]["kenning"]
    assert server["command"] == "kenning"  # the console script, beside this Python
    args = [str(repo) if a == "/path/to/repo" else a for a in server["args"]]
    return (str(Path(sys.executable).parent / "kenning"), *args)


def test_tools_answer_about_the_fixture_repository(scraped: Path, tmp_path: Path) -> None:
    async def scenario(s: ClientSession) -> None:
        tools = {t.name: t for t in (await s.list_tools()).tools}
        assert set(tools) == TOOLS
        assert "definitions" in tools["scry"].description  # says when to use another tool
        assert set(tools["scry"].input_schema["properties"]) == {
            "query", "mode", "types", "since", "until", "author", "path", "limit", "per_file"}

        found = await call(s, "scry", query="parser tabs", limit=3)
        assert found["mode"] == "lexical"  # no vectors in this database, and it says so
        assert any("lexical results only" in n for n in found["notes"])
        top = found["results"][0]  # the code, and the commit that says why
        assert (top["kind"], top["path"], top["paths"]) == (
            "code", "src/parser.py", ["src/parser.py"])
        assert top["evidence"][0]["title"] == "Parser handles tabs"
        decisions = await call(s, "scry", query="tab-separated", types=["session.decision"],
                               since="2024-02-01", path="src/parser.py")
        assert [r["snippet"] for r in decisions["results"]] == [
            "Split tokens on tabs in src/parser.py, since every input file is tab-separated"]

        report = await call(s, "file_report", path="src/parser.py")
        assert report["main_developer"] == "Carol Coder <carol@example.com>"
        assert [c["title"] for c in report["commits"]] == [
            "Parser handles tabs", "Add parser on a long-lived branch"]
        assert [d["title"] for d in report["decisions"]][0].startswith("Split tokens on tabs")

        defs = await call(s, "definitions", name="parse")
        assert [(d["path"], d["line"], d["kind"]) for d in defs["definitions"]] == [
            ("src/parser.py", 1, "function")]
        calls = await call(s, "callers", name="parse")
        assert [(c["path"], c["caller"]) for c in calls["callers"]] == [("src/cli.py", "run")]
    # started as the README tells a client to, from another directory
    talk(tmp_path, scenario, command=readme_server_config(scraped))


def test_recent_show_resources_and_the_prompt(scraped: Path) -> None:
    async def scenario(s: ClientSession) -> None:
        lately = await call(s, "recent", path="src/parser.py")
        assert [d["text"] for d in lately["decisions"]][0].startswith("Split tokens on tabs")
        assert lately["commits"] == []  # the parser commits are older than 30 days before
        older = await call(s, "recent", since="2024-01-01", path="src/parser.py")
        assert [c["subject"] for c in older["commits"]] == [
            "Parser handles tabs", "Add parser on a long-lived branch"]

        commit = await call(s, "show", ref=older["commits"][0]["sha"][:8])
        assert commit["kind"] == "commit"
        assert commit["item"]["subject"] == "Parser handles tabs"
        assert [f["path"] for f in commit["item"]["files"]] == ["src/parser.py"]
        decision = await call(s, "show", ref=lately["decisions"][0]["event_id"][:12])
        assert decision["kind"] == "session" and decision["item"]["note"] == NOTE
        context = decision["context"]
        assert context["session"]["title"] == "parser speed-up"
        assert [g["text"] for g in context["goals"]] == [
            "Make the parser faster on tab-separated input"]
        assert {(i["type"], i["text"]) for i in context["same_block"]} == {
            ("decision", "Keep parse pure: no module state"),
            ("challenge", "Old fixtures used spaces")}

        listed = json.loads((await s.read_resource("kenning://sessions")).contents[0].text)
        assert [(n["title"], n["decisions"], n["uri"]) for n in listed] == [
            ("parser speed-up", 2, f"kenning://sessions/{NOTE}")]
        whole = await s.read_resource(f"kenning://sessions/{NOTE}")
        assert whole.contents[0].text == NOTE_TEXT
        with pytest.raises(MCPError, match="no session note 'README.md'"):
            await s.read_resource("kenning://sessions/README.md")
        state = json.loads((await s.read_resource("kenning://status")).contents[0].text)
        assert state["target"] == state["head"]

        prompt = await s.get_prompt("before_changing", {"path": "src/parser.py"})
        text = prompt.messages[0].content.text  # type: ignore[union-attr]
        assert "Carol Coder <carol@example.com>: 2 commits, 100% ownership (main developer)" \
            in text
        assert "Split tokens on tabs in src/parser.py" in text
    talk(scraped, scenario)


def test_bad_arguments_are_one_line_errors_and_the_server_keeps_answering(
        repo: Path) -> None:
    async def scenario(s: ClientSession) -> None:
        bad: list[tuple[str, dict[str, Any], str]] = [
               ("scry", {"query": "parser", "mode": "fuzzy"}, "unknown --mode 'fuzzy'"),
               ("scry", {"query": "parser", "since": "banana"}, "cannot read --since 'banana'"),
               ("scry", {"query": "parser", "types": ["wiki"]}, "unknown --type 'wiki'"),
               ("scry", {"query": "  "}, "the query is empty"),
               ("scry", {"query": "parser", "limit": "many"}, "limit: Input should be a "
                "valid integer"),
               ("scry", {}, "query: Field required"),
               ("recent", {"limit": 0}, "--limit must be between 1 and"),
               ("definitions", {"name": "parse", "limit": -1}, "--limit must be between 1"),
               ("show", {"ref": "not-a-sha"}, "cannot show 'not-a-sha'"),
               ("show", {"ref": "ffff0000"}, "no commit or event starts with 'ffff0000'")]
        for tool, arguments, message in bad:
            text = await error(s, tool, **arguments)
            assert text.startswith("kenning: ") and message in text, text
            assert "\n" not in text and "Traceback" not in text
            # still answering
            assert (await call(s, "definitions", name="parse"))["definitions"]

        # something kenning did not foresee: the search index vanishes under the server
        apsw.Connection(str(repo / ".kenning" / "kenning.db")).execute(
            "DROP TABLE documents_fts")
        text = await error(s, "scry", query="parser", mode="lexical")
        assert text.startswith("kenning: internal error:") and "\n" not in text
        assert (await call(s, "definitions", name="parse"))["definitions"]
    talk(repo, scenario)


def test_a_new_commit_is_seen_without_restarting(repo: Path) -> None:
    builder = RepoBuilder(repo)  # `git init` again leaves an existing repository as it is

    async def scenario(s: ClientSession) -> None:
        before = await call(s, "scry", query="flux capacitor", mode="lexical")
        assert before["results"] == []
        assert not any("HEAD moved" in n for n in before.get("notes", []))
        head = builder.commit("Add the flux capacitor", "2024-02-11T10:00:00+00:00",
                              {"src/flux.py": "def capacitor():\n    return 88\n"}, author=ALICE)
        after = await call(s, "scry", query="flux capacitor", mode="lexical")
        assert any(f"HEAD moved to {head[:10]}" in n for n in after["notes"])
        assert after["results"][0]["path"] == "src/flux.py"
        assert after["results"][0]["evidence"][0]["source"] == head
        assert (await call(s, "definitions", name="capacitor"))["definitions"][0]["path"] \
            == "src/flux.py"
        again = await call(s, "scry", query="flux capacitor", mode="lexical")
        assert "notes" not in again  # up to date: nothing to say

        # another process holds the write lock (a `kenning scrape` of its own): the answer
        # comes from the log as it is, and says why
        other = apsw.Connection(str(repo / ".kenning" / "kenning.db"))
        other.execute("BEGIN IMMEDIATE")
        later = builder.commit("Tune the flux capacitor", "2024-02-11T11:00:00+00:00",
                               {"src/flux.py": "def capacitor():\n    return 121\n"})
        locked = await call(s, "scry", query="flux capacitor", mode="lexical")
        other.execute("ROLLBACK")
        assert any(f"could not bring the eventlog up to HEAD {later[:10]}" in n
                   and "locked by another kenning process" in n for n in locked["notes"])
        sources = [s for r in locked["results"]
                   for s in [r["source"], *(e["source"] for e in r["evidence"])]]
        assert head in sources and later not in sources
    talk(repo, scenario, env={"KENNING_LOCK_TIMEOUT": "0.2"})


def test_answers_are_cut_to_the_character_budget(repo: Path) -> None:
    async def scenario(s: ClientSession) -> None:
        result = await s.call_tool("status", {})
        text = result.content[0].text  # type: ignore[union-attr]
        assert len(text) <= 1000
        assert "to fit 1000 characters" in text
        assert json.loads(text)["target"]
    talk(repo, scenario, "--max-chars", "1000")


def test_fit_cuts_long_texts_then_drops_items_and_says_so() -> None:
    payload = {"notes": ["kept"], "results": [{"snippet": "x" * 3000, "n": i}
                                              for i in range(20)]}
    assert budget.fit({"results": []}, 100) == {"results": []}
    fitted = budget.fit(payload, 12_000)
    assert budget.size(fitted) <= 12_000 and len(fitted["results"]) == 20
    assert fitted["notes"][0] == "kept" and "cut" in fitted["notes"][1]
    dropped = budget.fit(payload, 2_000)
    assert budget.size(dropped) <= 2_000
    assert 0 < len(dropped["results"]) < 20
    assert f"{20 - len(dropped['results'])} of 20 results left out" in dropped["notes"][1]


def test_head_watch_sees_commits_and_checkouts(repo: Path) -> None:
    watch = HeadWatch(GitRepo.discover(repo))
    builder = RepoBuilder(repo)
    key = watch.key()
    watch.confirm(key)
    assert watch.unchanged(watch.key())
    builder.commit("One more", "2024-02-12T10:00:00+00:00", {"x.txt": "x\n"})
    assert not watch.unchanged(watch.key())
    watch.confirm(watch.key())
    builder.checkout("HEAD~1")  # detached: .git/HEAD itself is rewritten
    assert not watch.unchanged(watch.key())
    watch.confirm(watch.key())
    builder.git("pack-refs", "--all")
    builder.checkout("main")
    assert not watch.unchanged(watch.key())


def test_help_and_other_commands_never_import_the_sdk(scraped: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["--help"], ["status"], ["scry", "parser", "--mode", "lexical"]):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "kenning", *args],
                              cwd=scraped, env=env, capture_output=True, text=True, check=True)
        modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                   if line.startswith("import time:") and "|" in line}
        assert "kenning.cli.mcp" in modules  # the hook saw the command's module
        assert not {m for m in modules if m.split(".")[0] in ("mcp", "mcp_types")}, args


def test_embeddings_catch_up_in_the_background(tmp_path: Path) -> None:
    """With vectors in the database, a new commit is answered at once (words only for it),
    and the embeddings catch up in a child process; then it is found by meaning too."""
    path = tmp_path / "repo"
    r = build_repo(path)
    with kenning.open(path) as k:
        k.scrape()  # the real model, on a few texts

    async def scenario(s: ClientSession) -> None:
        head = r.commit("Teach the tokenizer about unicode quotes",
                        "2024-02-12T10:00:00+00:00", {"src/quotes.py": "Q = '\u201c'\n"})
        first = await call(s, "scry", query="unicode quotes tokenizer")
        assert any(f"HEAD moved to {head[:10]}" in n for n in first["notes"])
        assert any("catching up in the background" in n for n in first["notes"])
        # found by its words (ranked with the rest, which is also found by meaning)
        assert first["mode"] == "hybrid" and head in [h["source"] for h in first["results"]]
        deadline = time.monotonic() + 300
        told: list[str] = []
        while True:
            state = await call(s, "status")
            told += state.get("notes", [])
            if not state["server"]["embeddings_catching_up"]:
                break
            assert time.monotonic() < deadline, "the embeddings never caught up"
            await asyncio.sleep(0.5)
        assert any("the embeddings caught up" in n for n in told), told
        done = await call(s, "scry", query="unicode quotes tokenizer", mode="semantic")
        assert head in [h["source"] for h in done["results"]]
        state = await call(s, "status")
        assert state["materializers"]["embeddings"]["state"] == "fresh"
    talk(path, scenario)


@pytest.mark.parametrize("args, message", [
    (("--max-chars", "10"), "--max-chars must be at least 1000"),
    (("--repo", "/"), "is not inside a git repository"),
])
def test_a_server_that_cannot_start_says_why_in_one_line(
        scraped: Path, args: tuple[str, ...], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "kenning", "mcp", *args], cwd=scraped,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("kenning: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_without_the_sdk_the_server_names_the_extra_to_install(scraped: Path) -> None:
    # the SDK is the optional extra `mcp`: a default install has no such module
    hide_sdk = ("import sys; sys.modules['mcp'] = None; sys.argv = ['kenning', 'mcp']; "
                "from kenning.cli.main import main; main()")
    proc = subprocess.run([sys.executable, "-c", hide_sdk], cwd=scraped,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "kenning: kenning mcp needs the MCP SDK, which is not installed: "
        "pip install 'kenning[mcp]'"]
