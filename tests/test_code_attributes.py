"""`.gitattributes`: linguist-vendored, -generated and -documentation files are skipped
with a counted reason; the rules are git's (checked against `git check-attr`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.builder import BASE_ENV, RepoBuilder
from fixtures.clones import remove_object
from kenning.eventlog import database
from kenning.repository.gitrepo import GitRepo
from kenning.scrapers.code.attributes import LINGUIST, Attributes
from tests.conftest import Runner, update


def git_reasons(repo: Path, paths: list[str]) -> dict[str, str | None]:
    """What `git check-attr` says of each path (the work tree's .gitattributes, no user
    or system attribute files), read as linguist reads it."""
    env = {**os.environ, **BASE_ENV, "XDG_CONFIG_HOME": str(repo / ".no-config")}
    out = subprocess.run(["git", "check-attr", "-z", "--stdin", *LINGUIST], cwd=repo, env=env,
                         input="\0".join(paths).encode() + b"\0", capture_output=True,
                         check=True).stdout.decode().split("\0")
    states: dict[str, dict[str, bool]] = {p: {} for p in paths}
    for path, attribute, value in zip(out[0::3], out[1::3], out[2::3], strict=False):
        states[path][attribute] = value not in ("unset", "unspecified", "false")
    return {p: next((LINGUIST[a] for a in LINGUIST if states[p].get(a)), None) for p in paths}


def our_reasons(repo: Path, paths: list[str]) -> dict[str, str | None]:
    files = {str(p.relative_to(repo)): p.read_bytes() for p in repo.rglob(".gitattributes")}
    attributes = Attributes(files)
    return {p: attributes.reason(p) for p in paths}


ROOT_ATTRIBUTES = """\
# vendored trees
vendor/** linguist-vendored
/third_party/** linguist-vendored
deps/*/src/*.c linguist-vendored
**/generated/** linguist-generated
*.pb.go linguist-generated=true
parser.c linguist-generated
docs/** linguist-documentation
*.md -text
build/ linguist-vendored
"with space/*.js" linguist-vendored
lib/[abc]?.js linguist-generated
lib/[!abc]*.ts linguist-documentation
"""

NESTED_ATTRIBUTES = """\
keep.c -linguist-vendored
*.h linguist-vendored=false
local/*.c linguist-documentation
"""

PATHS = ["vendor/x/y.c", "vendor/keep.c", "src/vendor/z.c", "third_party/a.py",
         "src/third_party/a.py", "deps/foo/src/a.c", "deps/foo/bar/src/a.c",
         "a/generated/b.go", "generated/c.go", "api/v1/x.pb.go", "src/parser.c",
         "docs/index.js", "src/docs/x.js", "README.md", "build/out.js", "with space/w.js",
         "lib/ab.js", "lib/dd.js", "lib/x.ts", "lib/a.ts", "vendor/sub/keep.c", "vendor/sub/a.h",
         "vendor/sub/local/q.c", "src/app.py"]


def test_the_rules_are_gits(tmp_path: Path) -> None:
    r = RepoBuilder(tmp_path / "repo")
    r.commit("Attributes", "2024-01-01T00:00:00+00:00",
             {".gitattributes": ROOT_ATTRIBUTES, "vendor/sub/.gitattributes": NESTED_ATTRIBUTES})
    ours = our_reasons(r.path, PATHS)
    assert ours == git_reasons(r.path, PATHS)
    assert ours["vendor/x/y.c"] == "vendored" and ours["vendor/sub/keep.c"] is None
    assert ours["api/v1/x.pb.go"] == "generated" and ours["docs/index.js"] == "documentation"
    assert ours["src/app.py"] is None and ours["build/out.js"] is None  # "build/": directories


segments = st.sampled_from(["a", "b", "src", "vendor", "x.js", "y.c", "ab.go", "gen"])
pattern_parts = st.sampled_from(["a", "b", "src", "vendor", "*", "**", "?", "*.js", "[ab]*",
                                 "x.*", "gen", "*.c", "[!a]*"])
attribute_tokens = st.sampled_from(["linguist-vendored", "-linguist-vendored",
                                    "linguist-generated=true", "linguist-generated=false",
                                    "!linguist-vendored", "linguist-documentation"])


@st.composite
def attribute_lines(draw: st.DrawFn) -> str:
    parts = draw(st.lists(pattern_parts, min_size=1, max_size=4))
    pattern = ("/" if draw(st.booleans()) else "") + "/".join(parts)
    return pattern + " " + " ".join(draw(st.lists(attribute_tokens, min_size=1, max_size=2)))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return RepoBuilder(tmp_path_factory.mktemp("attrs") / "repo").path


@settings(max_examples=40, deadline=None)
@given(root=st.lists(attribute_lines(), min_size=1, max_size=6),
       nested=st.lists(attribute_lines(), max_size=3),
       paths=st.lists(st.lists(segments, min_size=1, max_size=4).map("/".join), min_size=1,
                      max_size=12, unique=True))
def test_any_rules_match_as_git_matches(scratch: Path, root: list[str], nested: list[str],
                                        paths: list[str]) -> None:
    repo = scratch
    (repo / ".gitattributes").write_text("\n".join(root) + "\n")
    (repo / "src").mkdir(exist_ok=True)
    (repo / "src" / ".gitattributes").write_text("\n".join(nested) + "\n")
    assert our_reasons(repo, paths) == git_reasons(repo, paths)


# -- the scrape ------------------------------------------------------------------------


def _units(db: Path) -> dict[str, str]:
    conn = database.connect(db, write=False)
    return dict(conn.execute("SELECT unit, status FROM scrape_units WHERE scraper = 'code'"))


def _code_files(db: Path) -> set[str]:
    conn = database.connect(db, write=False)
    return {r[0] for r in conn.execute(
        "SELECT DISTINCT source_file FROM eventlog WHERE event_type LIKE 'code.%'")}


FILES = {"src/app.py": "def run():\n    return 1\n",
         "grammars/tree_sitter/parser.c": "int parse(void) { return 0; }\n",
         "api/service.pb.go": "package api\n\nfunc Marshal() {}\n",
         "docs/conf.py": "project = 'x'\n"}


def test_marked_files_are_skipped_with_their_reason(tmp_path: Path, kenning: Runner) -> None:
    r = RepoBuilder(tmp_path / "repo")
    r.commit("Code", "2024-01-01T00:00:00+00:00", dict(FILES))
    db = tmp_path / "repo" / ".kenning" / "kenning.db"
    update(GitRepo.discover(r.path), db, run_materializers=False)
    assert _code_files(db) == set(FILES)

    r.commit("Mark vendored, generated and documentation files", "2024-01-02T00:00:00+00:00",
             {".gitattributes": "grammars/** linguist-vendored\n*.pb.go linguist-generated\n"
                                "docs/** linguist-documentation\n"})
    update(GitRepo.discover(r.path), db, run_materializers=False)
    assert _code_files(db) == {"src/app.py"}
    units = _units(db)
    assert (units["grammars/tree_sitter/parser.c"], units["api/service.pb.go"],
            units["docs/conf.py"]) == ("skipped:vendored", "skipped:generated",
                                       "skipped:documentation")
    status = kenning("status", cwd=r.path).stdout
    for reason in ("vendored", "generated", "documentation"):
        assert f"skipped:{reason} 1" in status

    r.commit("Our parser after all", "2024-01-03T00:00:00+00:00",
             {"grammars/.gitattributes": "tree_sitter/** -linguist-vendored\n"})
    update(GitRepo.discover(r.path), db, run_materializers=False)
    assert _code_files(db) == {"src/app.py", "grammars/tree_sitter/parser.c"}
    full = tmp_path / "full.db"
    update(GitRepo.discover(r.path), full, run_materializers=False)
    assert _digest(db) == _digest(full)  # incremental = full


def _digest(db: Path) -> str:
    from kenning.eventlog.digest import digest

    return digest(database.connect(db, write=False)).sha256


def test_a_missing_gitattributes_blob_is_never_fetched(tmp_path: Path) -> None:
    r = RepoBuilder(tmp_path / "source")
    r.commit("Code", "2024-01-01T00:00:00+00:00",
             {**FILES, ".gitattributes": "grammars/** linguist-vendored\n"})
    copy = Path(shutil.copytree(r.path, tmp_path / "copy"))
    blob = subprocess.run(["git", "rev-parse", "HEAD:.gitattributes"], cwd=copy, check=True,
                          capture_output=True, text=True).stdout.strip()
    remove_object(copy, blob)
    from kenning.scrapers.engine import scrape

    result = scrape(GitRepo.discover(copy), tmp_path / "k.db")
    notes = [w for w in result.warnings if w.where == ".gitattributes"]
    assert len(notes) == 1 and "lacks the blob" in notes[0].message
    assert "grammars/tree_sitter/parser.c" in _code_files(tmp_path / "k.db")
