"""Driving one kenning build from the outside, as a user does: `kenning scrape`,
`kenning status --json`, `kenning scry QUERY --json`, each a subprocess run from
the repository's directory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def build_env() -> dict[str, str]:
    """The environment of a build's subprocesses. Each build runs with its own Python
    and imports its own kenning: a PYTHONPATH or PYTHONHOME inherited from the shell
    that started the runner (the house way of running from a worktree) would make
    every build import that checkout instead."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, "HF_HUB_OFFLINE": "1"}



# scry variants asked of every question: name -> extra flags ({root}: semble's folder)
MODES: dict[str, tuple[str, ...]] = {
    "plain": (),
    "lexical": ("--mode", "lexical"),
    "semantic": ("--mode", "semantic"),
    "code": ("--type", "code"),
    "code-root": ("--type", "code", "--path", "{root}"),
    "code-root-lexical": ("--type", "code", "--path", "{root}", "--mode", "lexical"),
    "code-root-semantic": ("--type", "code", "--path", "{root}", "--mode", "semantic"),
}


def mode_flags(mode: str, root: str | None) -> tuple[str, ...]:
    """The flags of one variant; without a benchmark root, `--path` is dropped."""
    flags = MODES[mode]
    if root is None and "--path" in flags:
        at = flags.index("--path")
        flags = flags[:at] + flags[at + 2:]
    return tuple(f.replace("{root}", root or "") for f in flags)


class ScrapeFailed(RuntimeError):
    """`kenning scrape` exited non-zero: the repository is left out of the run."""


@dataclass(frozen=True)
class Kenning:
    label: str
    executable: Path
    source_id: str  # hash of the package's files: which build answered

    @property
    def db(self) -> Path:
        """This build's own database in the repository, named by the build, never the
        default one: two builds (or two sessions measuring different builds) never
        overwrite each other's, and a build measured again finds its database."""
        return Path(".kenning") / f"bench-{self.source_id}.db"


def identify(label: str, executable: Path) -> Kenning:
    python = executable.parent / "python"
    code = ("import kenning, pathlib, hashlib; root = pathlib.Path(kenning.__file__).parent; "
            "h = hashlib.sha256(); "
            "[h.update(str(p.relative_to(root)).encode() + b'\\0' + p.read_bytes()) "
            "for p in sorted(root.rglob('*')) if p.is_file() and p.suffix in "
            "('.py', '.scm', '.toml', '.json')]; print(h.hexdigest()[:16])")
    # run from the build's own folder: `python -c` puts the working directory first on
    # the path, and the runner's (a kenning checkout) would shadow the build's package
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          env=build_env(), cwd=executable.parent)
    if done.returncode != 0:
        raise SystemExit(f"cannot import kenning with {python}: {done.stderr.strip()[-300:]}")
    return Kenning(label, executable, done.stdout.strip())


def _sidecar(repo_dir: Path, db: Path) -> Path:
    return repo_dir / db.with_suffix(".bench.json")


def is_current(kenning: Kenning, repo_dir: Path, db: Path, revision: str) -> bool:
    """The database was built by this very build at this commit and nothing is stale."""
    sidecar = _sidecar(repo_dir, db)
    if not sidecar.exists() or not (repo_dir / db).exists():
        return False
    mark = json.loads(sidecar.read_text("utf-8"))
    if mark != {"revision": revision, "kenning": kenning.source_id}:
        return False
    done = subprocess.run([str(kenning.executable), "status", "--json", "--db", str(db)],
                          cwd=repo_dir, capture_output=True, text=True, env=build_env())
    if done.returncode != 0:
        return False
    status = json.loads(done.stdout)
    return status.get("target") == revision and not status.get("stale")


def scrape(kenning: Kenning, repo_dir: Path, db: Path, revision: str, log: Path) -> float:
    """`kenning scrape` (embeddings included); seconds taken."""
    started = time.perf_counter()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        done = subprocess.run([str(kenning.executable), "scrape", "--db", str(db)],
                              cwd=repo_dir, stdout=out, stderr=subprocess.STDOUT, env=build_env())
    if done.returncode != 0:
        lines = log.read_text("utf-8", errors="replace").strip().splitlines()
        raise ScrapeFailed(f"{lines[-1] if lines else 'no output'} (log: {log})")
    _sidecar(repo_dir, db).write_text(json.dumps(
        {"revision": revision, "kenning": kenning.source_id}), "utf-8")
    return time.perf_counter() - started


def scry(kenning: Kenning, repo_dir: Path, db: Path, query: str,
         flags: tuple[str, ...]) -> tuple[dict[str, Any], float]:
    """The parsed `kenning scry QUERY --json --db DB` answer and its wall time."""
    args = [str(kenning.executable), "scry", query, "--json", *flags, "--db", str(db)]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=repo_dir, capture_output=True, text=True, env=build_env())
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-300:], "results": []}, seconds
    return json.loads(done.stdout), seconds


def digest_of(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
