"""`kenning scrape` embeddings, `kenning scry` and `kenning eval` end to end, from the shell."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import history

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sentence_transformers", "transformers")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
            "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("xdg-cache"))}


def run(*args: str, cwd: Path, env: dict[str, str], code: int = 0,
        python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, *python, "-m", "kenning", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == code, f"{args}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    path = tmp_path_factory.mktemp("scry-cli") / "repo"
    history.build(path)
    first = run("scrape", cwd=path, env=env)
    embedded, cached = embed_counts(first.stdout)
    assert embedded >= 11 and cached == 0  # 11 commits with a message, and code symbols
    (path / ".embedded").write_text(str(embedded))
    return path


def embed_counts(stdout: str) -> tuple[int, int]:
    found = re.search(r"embeddings: (\d+) texts embedded, (\d+) from the cache", stdout)
    assert found, stdout
    return int(found[1]), int(found[2])


def imported_modules(stderr: str) -> set[str]:
    """Top-level module names from `-X importtime` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_rebuild_and_second_clone_embed_nothing(repo: Path, env: dict[str, str],
                                                tmp_path: Path) -> None:
    everything = int((repo / ".embedded").read_text())
    full = run("scrape", "--full", cwd=repo, env=env)
    assert embed_counts(full.stdout) == (0, everything)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    second = run("scrape", cwd=clone, env=env)
    assert embed_counts(second.stdout) == (0, everything)
    # the past holds older code (new texts, embedded once); asking again embeds nothing
    for n, db in enumerate(("u1.db", "u2.db")):
        until = run("scrape", "--until", "2024-01-08", "--db", str(tmp_path / db), cwd=repo,
                    env=env)
        assert n == 0 or embed_counts(until.stdout)[0] == 0


def test_hybrid_json_names_kind_time_source_paths_snippet_score(repo: Path,
                                                                env: dict[str, str]) -> None:
    proc = run("scry", "parser handles tabs", "--json", "--explain", cwd=repo, env=env)
    answer = json.loads(proc.stdout)
    assert (answer["mode"], answer["intent"]) == ("hybrid", "code")
    top = answer["results"][0]  # the code, with the commit that names it as evidence
    assert top["kind"] == "code" and top["paths"] == ["src/parser.py"]
    assert top["path"] == "src/parser.py" and 1 <= top["start_line"] <= top["end_line"]
    assert top["evidence"][0]["title"] == "Parser handles tabs"
    assert {"time", "source", "snippet", "score"} <= set(top)
    assert set(top["explain"]["arms"]) == {"lexical", "semantic"}
    assert any("history evidence" in step for step in top["explain"]["why"])
    table = run("scry", "parser", "--limit", "2", cwd=repo, env=env).stdout
    assert "src/parser.py" in table and "via: commit" in table


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_scry_never_imports_torch(repo: Path, env: dict[str, str], mode: str) -> None:
    proc = run("scry", "greeting", "--mode", mode, "--json", cwd=repo, env=env,
               python=("-X", "importtime"))
    modules = imported_modules(proc.stderr)
    assert "kenning" in modules  # the hook saw our imports at all
    assert not modules & set(HEAVY), modules & set(HEAVY)
    if mode == "lexical":  # nothing it does not use: each of these costs 10-100 ms
        unused = {"numpy", "tokenizers", "rich", "concurrent"}
        assert not modules & unused, modules & unused
    found = [t for r in json.loads(proc.stdout)["results"]
             for t in [r["title"], *(e["title"] for e in r["evidence"])]]
    assert "feat(app): add greeting" in found


def test_file_report(repo: Path, env: dict[str, str]) -> None:
    report = json.loads(run("scry", "--file", "src/core.py", "--json", cwd=repo,
                            env=env).stdout)
    assert report["path"] == "src/core.py"
    assert [c["title"] for c in report["commits"]] == ["Old address commit",
                                                       "Move app.py to core.py"]
    assert report["main_developer"] and report["experts"]
    assert {a["signal"] for a in report["activity"]} >= {"changes"}
    text = run("scry", "--file", str(repo / "src" / "core.py"), cwd=repo / "src", env=env).stdout
    assert "main developer" in text and "Move app.py to core.py" in text


def test_file_report_without_views_says_what_to_run(repo: Path, env: dict[str, str],
                                                    tmp_path: Path) -> None:
    db = tmp_path / "bare.db"
    run("scrape", "--no-materialize", "--db", str(db), cwd=repo, env=env)
    proc = run("scry", "--file", "src/core.py", "--db", str(db), cwd=repo, env=env)
    assert "kenning materialize" in proc.stderr


def test_no_embed_then_scry(repo: Path, env: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "lex.db"
    scraped = run("scrape", "--no-embed", "--db", str(db), cwd=repo, env=env)
    assert "embeddings" not in scraped.stdout
    hybrid = run("scry", "parser", "--db", str(db), cwd=repo, env=env)
    assert "lexical results only" in hybrid.stderr and "parser" in hybrid.stdout.lower()
    semantic = run("scry", "parser", "--mode", "semantic", "--db", str(db), cwd=repo, env=env,
                   code=2)
    assert semantic.stderr.count("\n") == 1 and "kenning materialize embeddings" in semantic.stderr


@pytest.mark.parametrize("args, message", [
    (("",), "the query is empty"),
    (("x", "--type", "wiki"), "unknown --type 'wiki'"),
    (("x", "--mode", "fuzzy"), "unknown --mode"),
    ((), "nothing to look for"),
    (("x", "--file", "a.py"), "not both"),
    (("x", "--limit", "99999999999999999999"), "--limit must be between 1 and 10000"),
    (("--file", "src/core.py", "--limit", "0"), "--limit must be between 1 and 10000"),
    (("x", "--since", ""), "--since needs a date"),
    (("x", "--until", "  "), "--until needs a date"),
    (("x", "--until", "2025-13-45"), "there is no month 13"),
    (("x", "--since", "soon"), "cannot read --since 'soon': not a revision of this repository, "
     "and not a date"),
    (("x", "--path", "/"), "the path '/' is outside the repository at "),
    (("x", "--author", " "), "--author needs a name"),
    (("x", "--path", ""), "the path is empty"),
    (("--file", " "), "the path is empty"),
])
def test_bad_input_is_one_line(repo: Path, env: dict[str, str], args: tuple[str, ...],
                               message: str) -> None:
    proc = run("scry", *args, cwd=repo, env=env, code=2)
    assert proc.stderr.startswith("kenning: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_paths_are_read_as_git_reads_pathspecs(repo: Path, env: dict[str, str]) -> None:
    """From a subfolder, --path is relative to it (a file, a folder, "." or a glob); from
    outside the repository (with --repo), relative to the repository's root."""
    def paths(*args: str, cwd: Path) -> list[list[str]]:
        found = json.loads(run("scry", "parse", "--json", *args, cwd=cwd, env=env).stdout)
        return [r["paths"] for r in found["results"]]

    src = repo / "src"
    for here, there in ((("--path", "src/parser.py"), ("--path", "parser.py")),
                        (("--path", "src"), ("--path", ".")),
                        (("--path", "src/*.py"), ("--path", "*.py"))):
        expected = paths(*here, cwd=repo)
        assert expected and all(any(p.startswith("src/") for p in hit) for hit in expected)
        assert paths(*there, cwd=src) == expected
        assert paths(*here, "--repo", str(repo), cwd=repo.parent) == expected
    assert paths("--path", str(src / "parser.py"), cwd=src) == \
        paths("--path", "src/parser.py", cwd=repo)
    # a folder (no glob) narrows exact lookups as it narrows a search
    listed = run("query", "definitions", "parse", "--path", ".", cwd=src, env=env).stdout
    assert listed.startswith("src/parser.py:1") and \
        listed == run("query", "definitions", "parse", "--path", "src/*", cwd=repo, env=env).stdout


def test_long_query_and_query_syntax_from_the_shell(repo: Path, env: dict[str, str]) -> None:
    run("scry", "parser " * 2000, "--json", cwd=repo, env=env)
    for query in ('"foo" OR 1=1 --', "NEAR(", 'unbalanced "'):
        run("scry", query, "--json", "--path", "src/[", cwd=repo, env=env)


def test_eval_generate_and_score(repo: Path, env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "q.json"
    run("eval", "generate", "--from-commits", "50", "-o", str(out), cwd=repo, env=env)
    queries = json.loads(out.read_text())["queries"]
    titles = [q["query"] for q in queries]
    assert "Merge branch 'old-feature'" not in titles  # merges are skipped
    assert "Release chores" not in titles  # no files: nothing to find
    assert all(q["exclude_sources"] and q["relevant_docs"] for q in queries)
    scored = json.loads(run("eval", str(out), "--json", cwd=repo, env=env).stdout)
    assert [m["mode"] for m in scored["modes"]] == ["hybrid", "lexical", "semantic"]
    for m in scored["modes"]:
        assert 0 <= m["mrr"] <= 1 and 0 <= m["recall@5"] <= m["recall@10"] <= 1
        assert m["latency_p50_ms"] <= m["latency_p95_ms"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"queries": [{"id": 1}]}')
    assert "relevant_docs" in run("eval", str(bad), cwd=repo, env=env, code=2).stderr



def test_an_index_built_by_another_kenning_is_one_line_not_a_traceback(
        repo: Path, env: dict[str, str], tmp_path: Path) -> None:
    # a user who upgraded kenning and asks before scraping again
    import shutil

    import apsw

    db = tmp_path / "old.db"
    shutil.copy(repo / ".kenning" / "kenning.db", db)
    conn = apsw.Connection(str(db))
    conn.execute("UPDATE materializer_state SET version = '2' WHERE name = 'fts'")
    conn.close()
    proc = run("scry", "anything", "--mode", "lexical", "--db", str(db), cwd=repo, env=env,
               code=2)  # like every other bad input
    assert proc.stderr.strip().splitlines() == [
        "kenning: this database's search index was built by another kenning (index version "
        "2, this one reads 4); run `kenning scrape` (or `kenning materialize fts`)"]
