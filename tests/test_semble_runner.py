"""The semble benchmark runner measures the build it is given, whatever shell starts it."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bench.semble.kenning_cli import Kenning, identify

ROOT = Path(__file__).resolve().parent.parent


def _build(tmp_path: Path, marker: str) -> Path:
    """A kenning 'build' as a user has one: a venv whose site-packages points at its own
    kenning package (as an editable install does); returns its bin/kenning."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    src = tmp_path / "src" / "kenning"
    src.mkdir(parents=True)
    (src / "__init__.py").write_text(f"MARKER = {marker!r}\n", "utf-8")
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    Path(purelib).mkdir(parents=True, exist_ok=True)
    (Path(purelib) / "kenning_src.pth").write_text(str(src.parent) + "\n", "utf-8")
    return venv / "bin" / "kenning"  # identify() only uses its folder's python


def test_a_build_is_identified_by_its_own_package_not_the_callers_pythonpath(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    executable = _build(tmp_path, "one")
    other = _build(tmp_path / "other", "two")
    # the house way of running the runner: this checkout first on the path
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.chdir(ROOT)  # and started from it, as `python -m bench.semble.run` is
    # each build hashes its own package, not this checkout's: two builds that differ
    # get different ids (had both imported this checkout, the ids would be equal)
    assert identify("one", executable).source_id != identify("two", other).source_id


def test_each_build_scrapes_into_its_own_database_never_the_default_one() -> None:
    # a session measuring one build must not overwrite the database another session's
    # build answered from: the file is named by the build, whatever its label
    a = Kenning("main", Path("a/bin/kenning"), "0123456789abcdef")
    b = Kenning("main", Path("b/bin/kenning"), "fedcba9876543210")
    assert a.db != b.db
    assert a.db == Kenning("baseline", Path("c/bin/kenning"), "0123456789abcdef").db
    assert a.db.name != "kenning.db" and a.db.parent == Path(".kenning")


def test_a_repository_with_unanswered_questions_gets_no_figure(tmp_path: Path) -> None:
    # a run that saved answers for 1 of 2 questions must not print that one's score as
    # the repository's figure (nor let it into the mean)
    import io
    import json

    from bench.semble import report
    from bench.semble.data import Repo, Task
    from bench.semble.scoring import Target

    repo = Repo("demo", "python", "https://example.invalid/demo", "0" * 40, None)
    tasks = [Task("demo", "python", question, (Target("a.py"),), "semantic")
             for question in ("where is a", "where is b")]
    hit = {"kind": "code", "paths": ["a.py"], "start_line": 1, "end_line": 2}
    raw = tmp_path / "raw" / "build"
    raw.mkdir(parents=True)
    (raw / "demo.json").write_text(json.dumps({"modes": {"plain": {"answers": [
        {"query": "where is a", "results": [hit], "seconds": 0.1}]}}}), "utf-8")
    out = io.StringIO()
    published: dict[str, dict[str, float]] = {tool: {} for tool in report.PUBLISHED}
    report.print_all([repo], {"demo": tasks}, ["build"], ["plain"], tmp_path, published, out)
    text = out.getvalue()
    assert "answers missing, so no figure for: build:plain:demo (1 of 2)" in text
    assert "1.000" not in text  # the answered question's perfect score is not the figure
