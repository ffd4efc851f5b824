"""docs/json.md names the keys of every command's --json output; the real output has
exactly those keys, and every --json output is one object."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fixtures import history
from tests.conftest import ROOT, Runner

# each documented heading, as run on the history fixture
COMMANDS = {
    "kenning scrape --json": ["scrape", "--no-embed"],
    "kenning materialize --json": ["materialize", "views"],
    "kenning status --json": ["status"],
    "kenning digest --json": ["digest"],
    "kenning digest --check FILE --json": ["digest", "--check", "{digest}"],
    "kenning verify --json": ["verify"],
    "kenning scry QUERY --json": ["scry", "parser", "--mode", "lexical"],
    "kenning scry --file PATH --json": ["scry", "--file", "src/parser.py"],
    "kenning query decisions-context --json": ["query", "decisions-context"],
    "kenning query decision-impact --json": ["query", "decision-impact"],
    "kenning query collaboration --json": ["query", "collaboration"],
    "kenning query definitions NAME --json": ["query", "definitions", "nothing_is_called_this"],
    "kenning query callers NAME --json": ["query", "callers", "split"],
    "kenning eval QUERYSET --json": ["eval", "{queries}", "--mode", "lexical"],
    "kenning eval generate --from-commits N": ["eval", "generate", "--from-commits", "3"],
    "kenning recipe show --json": ["recipe", "show"],
}


def documented() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "json.md").read_text("utf-8")
    found = re.findall(r"^## `(.+?)`\nkeys: (.+)$", text, flags=re.M)
    return {heading: [k.strip() for k in keys.split(",")] for heading, keys in found}


def test_every_documented_command_is_run_here_and_no_other() -> None:
    assert set(documented()) == set(COMMANDS)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("json") / "repo"
    history.build(path)
    return path


def test_each_output_is_one_object_with_the_documented_keys(kenning: Runner, repo: Path,
                                                            tmp_path: Path) -> None:
    kenning("scrape", "--no-embed", cwd=repo)
    files = {"digest": tmp_path / "digest.json", "queries": tmp_path / "queries.json"}
    kenning("digest", "--write", str(files["digest"]), cwd=repo)
    kenning("eval", "generate", "--from-commits", "3", "-o", str(files["queries"]), cwd=repo)
    for heading, keys in documented().items():
        args = [a.format(**{k: str(v) for k, v in files.items()}) for a in COMMANDS[heading]]
        extra = [] if "generate" in args else ["--json"]
        proc = kenning(*args, *extra, cwd=repo)
        value = json.loads(proc.stdout)
        assert isinstance(value, dict), heading
        assert sorted(value) == sorted(keys), heading


def test_nothing_found_is_said_on_stderr_with_exit_1_like_grep(kenning: Runner,
                                                                repo: Path) -> None:
    kenning("scrape", "--no-embed", cwd=repo)
    for args, said in ((["query", "definitions", "nope_xyz"], "no definition of 'nope_xyz'"),
                       (["query", "callers", "nope_xyz"], "no calls of 'nope_xyz'"),
                       (["query", "decisions-context"], "no session decisions")):
        proc = kenning(*args, cwd=repo, check=False)
        assert (proc.returncode, proc.stdout) == (1, ""), args
        assert said in proc.stderr
        as_json = kenning(*args, "--json", cwd=repo)  # a script gets an empty list, exit 0
        assert [v for v in json.loads(as_json.stdout).values() if v == []]
