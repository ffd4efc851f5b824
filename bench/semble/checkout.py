"""Check a benchmark repository out at its pinned commit, from a `fetch` mirror.

The mirrors brought by the workplace's `fetch` tool are bare and sometimes lack
a few large blobs (vendored `parser.c`, binaries). For the benchmark only,
each missing blob is pointed at a small stub through `refs/replace/`, so that
every commit can be read and checked out; `checkout()` reports how many were
stubbed. (kenning itself is being taught to cope with missing blobs natively;
until then the stubs keep a scrape from stopping.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

STUB = b"missing\n"


class CheckoutError(RuntimeError):
    pass


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True)
    if done.returncode != 0:
        raise CheckoutError(f"git {' '.join(args[:3])} in {repo}: "
                            f"{done.stderr.decode(errors='replace').strip()[:300]}")
    return done.stdout.decode(errors="replace")


def missing_blobs(repo: Path, revision: str) -> list[str]:
    """Objects reachable from `revision` that the object store lacks."""
    listed = subprocess.run(["git", "-C", str(repo), "rev-list", "--objects", "--missing=print",
                             revision], capture_output=True)
    if listed.returncode != 0:
        raise CheckoutError(f"cannot list the objects of {revision[:12]} in {repo}: "
                            f"{listed.stderr.decode(errors='replace').strip()[:300]}")
    return sorted(line[1:].split()[0] for line in listed.stdout.decode().splitlines()
                  if line.startswith("?"))


def checkout(mirror: Path, dest: Path, revision: str) -> int:
    """Clone `mirror` into `dest` (once) and detach HEAD at `revision`; the number of
    missing blobs that were replaced by stubs."""
    if not (dest / ".git").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(mirror), str(dest)],
                              capture_output=True)
        if done.returncode != 0:
            raise CheckoutError(f"git clone {mirror}: {done.stderr.decode().strip()[:300]}")
    try:
        git(dest, "cat-file", "-e", f"{revision}^{{commit}}")
    except CheckoutError as exc:
        raise CheckoutError(f"{dest.name}: the mirror has no commit {revision[:12]}") from exc
    missing = missing_blobs(dest, revision)
    if missing:
        stub = git(dest, "hash-object", "-w", "--stdin", input=STUB).strip()
        for sha in missing:
            git(dest, "update-ref", f"refs/replace/{sha}", stub)
    if git(dest, "rev-parse", "HEAD").strip() != revision or missing:
        git(dest, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--force",
            "--detach", revision)
    return len(missing)
